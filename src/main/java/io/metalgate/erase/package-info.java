/**
 * Erasing disks: which technique each disk gets ({@link Techniques}, a pure function of what the drive reports,
 * tested against captured tool outputs of real drives), with its NIST SP 800-88 method and IEEE 2883 technique.
 */
package io.metalgate.erase;
