/**
 * Camel routes to and from billing, ticketing and brokers. Today: the lease-event intake route
 * ({@code direct:lease-event-intake}) fed by the HTTP channel, persisting events idempotently and keeping
 * everything it cannot accept as a dead letter.
 */
package io.metalgate.integration;
