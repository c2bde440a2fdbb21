/**
 * Witnesses: copies of the signed audit heads kept out of the appliance's reach, and their offline checks.
 * {@link io.metalgate.evidence.witness.TimeStampTokens} is the RFC 3161 codec: it builds the request the
 * appliance posts to a time-stamping authority, checks the reply, and lets an auditor check a kept token
 * later without the appliance.
 */
package io.metalgate.evidence.witness;
