package io.metalgate;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The architecture of docs/architecture.md, checked on the compiled main classes (not the tests, not the
 * BMC emulators of redfish-mocks/ that the tests compile in). Each rule fails the build when broken.
 */
class ArchitectureTest {

    /** The BMC emulators' packages: compiled with the tests, not part of the product. */
    private static final ImportOption NOT_EMULATORS = new ImportOption() {
        @Override
        public boolean includes(Location location) {
            return !location.contains("/io/metalgate/redfishmock/") && !location.contains("/io/metalgate/ipmisim/");
        }
    };

    /** {@code driver.api.Interfaces} and its nested interfaces (Power, Management, …): calling one drives a BMC. */
    private static final DescribedPredicate<JavaClass> DRIVER_INTERFACES = DescribedPredicate.describe(
            "io.metalgate.driver.api.Interfaces or a type nested in it",
            c -> c.getName().equals("io.metalgate.driver.api.Interfaces")
                    || c.getName().startsWith("io.metalgate.driver.api.Interfaces$"));

    private static JavaClasses product;

    @BeforeAll
    static void importProduct() {
        product = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .withImportOption(NOT_EMULATORS)
                .importPackages("io.metalgate");
        assertFalse(product.isEmpty(), "no product classes imported");
    }

    /** a. The capabilities (io.metalgate.X..) form a directed graph: no package depends on itself round about. */
    @Test
    void noCyclesBetweenCapabilities() {
        ArchRule rule = slices().matching("io.metalgate.(*)..").should().beFreeOfCycles();
        rule.check(product);
    }

    /** b. The gate is a pure function: it knows the JDK and itself, nothing else (no Quarkus, no database). */
    @Test
    void gateDependsOnlyOnTheJdkAndItself() {
        ArchRule rule = classes().that().resideInAPackage("io.metalgate.gate..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.metalgate.gate..", "java..");
        rule.check(product);
    }

    /** c. The protocol implementations are reached only through the conductor. */
    @Test
    void onlyTheConductorUsesTheProtocolDrivers() {
        ArchRule rule = noClasses()
                .that().resideOutsideOfPackages("io.metalgate.conductor..", "io.metalgate.driver..")
                .should().dependOnClassesThat()
                .resideInAnyPackage("io.metalgate.driver.ipmi..", "io.metalgate.driver.redfish..");
        rule.check(product);
    }

    /** c. Only the conductor (and the drivers themselves) call the hardware interfaces: nobody else drives a BMC. */
    @Test
    void onlyTheConductorCallsTheDriverInterfaces() {
        ArchRule rule = noClasses()
                .that().resideOutsideOfPackages("io.metalgate.conductor..", "io.metalgate.driver..")
                .should().callMethodWhere(target(owner(DRIVER_INTERFACES)));
        rule.check(product);
    }
}
