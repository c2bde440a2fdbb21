/**
 * What every capability shares: configuration ({@code metalgate.*}), RFC 9457 problem details and the
 * mappers that turn every error into one, paging, partial-update bookkeeping, query-parameter parsing,
 * and the data directory ({@code metalgate.data-dir}) with its 0600 secret files. It depends on no other
 * capability.
 */
package io.metalgate.common;
