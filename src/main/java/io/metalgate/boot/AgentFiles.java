package io.metalgate.boot;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * {@code GET /boot/agent/vmlinuz} and {@code /boot/agent/initrd.img}: the erase agent's kernel and initramfs, from
 * {@code metalgate.boot.agent-dir}, with HTTP range requests (iPXE and resumed downloads use them) and no listing.
 * Open like the boot script: firmware holds no credential, and these files are the same for every machine (the
 * token that makes one machine's agent act comes with its script).
 */
@ApplicationScoped
public class AgentFiles {

    @Inject
    BootService boot;

    void routes(@Observes Router router) {
        String dir = boot.agentDir().toAbsolutePath().normalize().toString();
        router.get("/boot/agent/*").handler(StaticHandler.create(FileSystemAccess.ROOT, dir).setDirectoryListing(false)
                .setCachingEnabled(false).setIncludeHidden(false).setAlwaysAsyncFS(true).setEnableRangeSupport(true));
    }
}
