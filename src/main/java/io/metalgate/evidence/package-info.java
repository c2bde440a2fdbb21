/**
 * Tamper-evident audit log. Writers call {@link io.metalgate.evidence.AuditLog#record} inside their
 * transaction; {@link io.metalgate.evidence.AuditSequencer} chains entries (SHA-256 over RFC 8785
 * canonical JSON, {@link io.metalgate.evidence.AuditHashes}) and signs checkpoints with the appliances
 * Ed25519 key; exports ({@link io.metalgate.evidence.AuditExportFormat}) are checked offline by
 * {@link io.metalgate.evidence.AuditVerifier}. The pure classes here (hashes, format, verifier,
 * canonical JSON, keys) have no Quarkus dependency, so the verifier runs without the appliance.
 */
package io.metalgate.evidence;
