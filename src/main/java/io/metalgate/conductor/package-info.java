/**
 * Runs what the gate allowed. Today: gathering the gate's facts from the database and explaining a
 * decision ({@code GET /api/machines/{id}/gate}). Later: actions, bulk plans, per-machine locks, and
 * the only calls to drivers.
 */
package io.metalgate.conductor;
