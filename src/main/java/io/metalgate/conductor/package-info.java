/**
 * Runs what the gate allowed: gathers the gate's facts from the database under a per-machine lock, decides,
 * audits, and then moves the lifecycle or drives the BMC (actions, approvals, bulk plans, power sync,
 * inspection, BMC intents). The only calls to drivers are here, and so is the mapping of a failed BMC call
 * to problem+json ({@link io.metalgate.conductor.BmcProblems}).
 */
package io.metalgate.conductor;
