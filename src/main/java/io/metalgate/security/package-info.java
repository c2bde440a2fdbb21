/**
 * Who may do what: roles (viewer, operator, approver, legal, admin; admin implies all, all imply viewer),
 * users in PostgreSQL with Argon2id hashes, bearer API tokens stored as SHA-256, the first-start admin,
 * and AES-256-GCM encryption of secrets at rest. Every endpoint names its roles with {@code @RolesAllowed}.
 */
package io.metalgate.security;
