/**
 * The hardware interfaces every BMC protocol implements, and their value types. Every method returns a
 * {@code Uni} and fails only with {@link io.metalgate.driver.api.DriverException}, whose kind says what went
 * wrong in terms an operator can act on.
 */
package io.metalgate.driver.api;
