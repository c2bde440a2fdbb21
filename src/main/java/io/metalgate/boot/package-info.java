/**
 * Network boot: the services a machine's firmware and the erase agent talk to — TFTP ({@link TftpServer},
 * read-only, RFC 1350 with the blksize, tsize and timeout options) serving iPXE; (to come) the per-machine iPXE
 * scripts over HTTP and dnsmasq's configuration. Codecs are pure ({@link TftpCodec}); the server is transport.
 */
package io.metalgate.boot;
