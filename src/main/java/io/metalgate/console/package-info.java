/**
 * The NOC console: server-rendered pages (Qute, htmx, server-sent events) under {@code /console}, signed in with a
 * session cookie ({@link io.metalgate.security.ConsoleSessions}). Pages read through {@link io.metalgate.console.ConsoleQueries}
 * or the API's resources; every action calls the API resource method a REST client would, after the form's CSRF
 * token was checked, so the console can do nothing the API would not let the same person do.
 */
package io.metalgate.console;
