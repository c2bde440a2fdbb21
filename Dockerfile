# metalgate as a native executable.
#   docker build -t metalgate .
#   docker run -p 8080:8080 -v metalgate-data:/var/lib/metalgate metalgate
# Stage 1 compiles the native executable with Mandrel (GraalVM for Quarkus); stage 2 is a small Debian
# with PostgreSQL's server binaries for the embedded database, running as an unprivileged user.
# To use an external PostgreSQL instead, set QUARKUS_DATASOURCE_REACTIVE_URL and friends (README.md).

FROM quay.io/quarkus/ubi9-quarkus-mandrel-builder-image:jdk-21 AS build
COPY --chown=quarkus:quarkus mvnw pom.xml /code/
COPY --chown=quarkus:quarkus .mvn /code/.mvn
USER quarkus
WORKDIR /code
RUN ./mvnw -B -q dependency:go-offline || true
COPY --chown=quarkus:quarkus src /code/src
# maven.test.skip: the tests are not compiled (they need redfish-mocks/, which the image does not copy)
RUN ./mvnw -B package -Dmaven.test.skip=true -Dquarkus.native.enabled=true -Dquarkus.package.jar.enabled=false

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1001 --home-dir /var/lib/metalgate --create-home metalgate
COPY --from=build /code/target/*-runner /usr/local/bin/metalgate
USER 1001
ENV METALGATE_DATA_DIR=/var/lib/metalgate \
    METALGATE_PG_BIN=/usr/lib/postgresql/15/bin
VOLUME /var/lib/metalgate
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/metalgate"]
