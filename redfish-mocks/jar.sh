# Sourced by run and run-ipmi: builds target/redfish-mocks.jar when it is missing or older than its sources.
# Both starters share one jar and one target directory; a lock makes the second one started at the same
# moment (`run … & run-ipmi … &`) wait for the first one's build and then find the jar fresh.
jar=target/redfish-mocks.jar
mkdir -p target
exec 9>target/.build-lock
flock 9
if [[ ! -f $jar || -n $(find src pom.xml -newer "$jar" -print -quit) ]]; then
  ../mvnw -B -q -f pom.xml package >&2
fi
flock -u 9
exec 9>&-
