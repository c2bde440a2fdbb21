package io.metalgate.conductor;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.Interfaces;
import io.metalgate.driver.api.Inventory;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Uni;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A driver whose every BMC call is timed and counted ({@code metalgate_bmc_call_seconds{protocol, operation,
 * outcome}}: {@code ok}, or the {@link DriverException.Kind} that failed it, or {@code error}). The conductor gets its
 * drivers through {@link Drivers}, which hands out these: one place, so no call goes unmeasured.
 */
final class MeteredDriver implements Interfaces.Driver {

    private final Interfaces.Driver driver;
    private final MeterRegistry metrics;

    MeteredDriver(Interfaces.Driver driver, MeterRegistry metrics) {
        this.driver = driver;
        this.metrics = metrics;
    }

    private <T> Uni<T> timed(String operation, Supplier<Uni<T>> call) {
        return Uni.createFrom().deferred(() -> {
            Timer.Sample sample = Timer.start(metrics);
            return call.get().onItemOrFailure().invoke((item, failure) -> sample.stop(metrics.timer("metalgate_bmc_call", "protocol",
                    driver.protocol(), "operation", operation, "outcome", failure == null ? "ok"
                            : failure instanceof DriverException d ? d.kind().name() : "error")));
        });
    }

    @Override
    public String protocol() {
        return driver.protocol();
    }

    @Override
    public Uni<PowerState> powerState(BmcEndpoint bmc) {
        return timed("power-state", () -> driver.powerState(bmc));
    }

    @Override
    public Uni<Void> setPower(BmcEndpoint bmc, PowerAction action) {
        return timed("set-power", () -> driver.setPower(bmc, action));
    }

    @Override
    public Uni<Void> setBootDevice(BmcEndpoint bmc, BootOverride override) {
        return timed("set-boot-device", () -> driver.setBootDevice(bmc, override));
    }

    @Override
    public Uni<BootOverride> bootDevice(BmcEndpoint bmc) {
        return timed("boot-device", () -> driver.bootDevice(bmc));
    }

    @Override
    public Uni<Void> insert(BmcEndpoint bmc, String imageUrl) {
        return timed("media-insert", () -> driver.insert(bmc, imageUrl));
    }

    @Override
    public Uni<Void> eject(BmcEndpoint bmc) {
        return timed("media-eject", () -> driver.eject(bmc));
    }

    @Override
    public Uni<Inventory> inspect(BmcEndpoint bmc) {
        return timed("inspect", () -> driver.inspect(bmc));
    }

    @Override
    public Uni<List<Interfaces.DiskErase>> secureErase(BmcEndpoint bmc) {
        return timed("secure-erase", () -> driver.secureErase(bmc));
    }

    @Override
    public Uni<Optional<String>> hardwareId(BmcEndpoint bmc) {
        return timed("hardware-id", () -> driver.hardwareId(bmc));
    }

    @Override
    public Uni<List<String>> hardwareIds(BmcEndpoint bmc) {
        return timed("hardware-ids", () -> driver.hardwareIds(bmc));
    }

    @Override
    public Uni<Void> release(BmcEndpoint bmc) {
        return timed("release", () -> driver.release(bmc));
    }
}
