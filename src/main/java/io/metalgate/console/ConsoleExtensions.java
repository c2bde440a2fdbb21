package io.metalgate.console;

import io.metalgate.conductor.BulkPlans;
import io.quarkus.qute.TemplateExtension;

/** Small formatting for the console's templates. */
@TemplateExtension
final class ConsoleExtensions {

    private ConsoleExtensions() {
    }

    /** A tenant's share of its fleet in a plan, as a percentage with one decimal. */
    static String sharePercent(BulkPlans.TenantRadius radius) {
        return String.format(java.util.Locale.ROOT, "%.1f %%", radius.share() * 100);
    }
}
