//! Nagle's algorithm off on the page connections' TCP sockets, for `COPY`.
//!
//! A `COPY` ends with two writes: the rows, then a 5-byte `CopyDone`. With Nagle's algorithm
//! on, the kernel holds that small write until the server acknowledges the rows, and the
//! server delays its acknowledgement (40 ms on Linux) because it has nothing to send yet: a
//! 50,000-person sync into PostgreSQL took 14.6 s instead of 2.8 s. libpq and tokio-postgres
//! set `TCP_NODELAY` on every connection; sqlx 0.9 does not, and gives no access to its
//! socket. So the store asks the server which port a new connection comes from
//! (`inet_client_port()`) and sets the option on this process's socket bound to that port.
//! Where that fails (a proxy between, a platform without the calls) the store does not copy
//! (`Store::copies`): new records are upserted as known ones are.

/// Sets `TCP_NODELAY` on this process's TCP socket whose local port is `port`. False when
/// there is none, or the option could not be set.
#[cfg(unix)]
pub(crate) fn set(port: u16) -> bool {
    use std::mem::size_of;
    for fd in descriptors() {
        if local_port(fd) != Some(port) {
            continue;
        }
        let one: libc::c_int = 1;
        // SAFETY: setsockopt reads one int from `one`, the size given; on anything but a TCP
        // socket it fails and changes nothing.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        return rc == 0;
    }
    false
}

/// No socket calls here: the store does not copy.
#[cfg(not(unix))]
pub(crate) fn set(_port: u16) -> bool {
    false
}

/// The local port of `fd` if it is an IPv4 or IPv6 socket.
#[cfg(unix)]
fn local_port(fd: libc::c_int) -> Option<u16> {
    use std::mem::size_of;
    // SAFETY: all-zero bytes are a valid sockaddr_storage (plain integers).
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: getsockname writes at most `len` bytes into `addr`, which has that many; on a
    // descriptor that is closed or not a socket it fails (EBADF, ENOTSOCK) and writes nothing.
    let rc = unsafe {
        libc::getsockname(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    match libc::c_int::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is sized for.
            let a =
                unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(u16::from_be(a.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, a sockaddr_in6.
            let a =
                unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(u16::from_be(a.sin6_port))
        }
        _ => None,
    }
}

/// This process's open descriptors: Linux lists them; elsewhere every number below 4,096 is
/// tried (the calls fail harmlessly on those not open).
#[cfg(unix)]
fn descriptors() -> Vec<libc::c_int> {
    match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (0..4096).collect(),
    }
}

/// Whether `TCP_NODELAY` is set on this process's socket bound to local port `port` (None:
/// no such socket).
#[cfg(all(test, unix))]
pub(crate) fn get(port: u16) -> Option<bool> {
    use std::mem::size_of;
    let fd = descriptors()
        .into_iter()
        .find(|fd| local_port(*fd) == Some(port))?;
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `v`, which has that many.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(v != 0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// The socket of a connection found by its port gets the option; a port nothing is bound
    /// to gets nothing.
    #[test]
    fn the_socket_on_the_port_gets_the_option() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let port = client.local_addr().unwrap().port();
        assert_eq!(get(port), Some(false));
        assert!(set(port));
        assert_eq!(get(port), Some(true));
        assert!(client.nodelay().unwrap());
        drop(client);
        assert!(!set(port), "no socket is bound to the port any more");
    }
}
