/**
 * What every capability shares: configuration ({@code metalgate.*}), RFC 9457 problem details and the
 * mappers that turn every error into one, paging, partial-update bookkeeping, query-parameter parsing.
 */
package io.metalgate.common;
