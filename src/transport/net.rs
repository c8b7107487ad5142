//! The TCP side of a request, under one deadline: name resolution, connect,
//! and a socket whose every read and write gets only the time left.

use super::{Cause, Phase, TransportError};
use crate::clock;
use crate::url::ApiUrl;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The deadline passed: phase by phase, `problem` tells what that means.
fn timed_out() -> io::Error {
    io::ErrorKind::TimedOut.into()
}

/// Connects to the host and port of `url` before `deadline`.
pub fn connect(url: &ApiUrl, deadline: Instant) -> Result<Deadlined, TransportError> {
    let host = url.bare_host();
    let mut last_error = None;
    for address in resolve(host, url.port, deadline)? {
        let left = clock::left_until(deadline);
        if left.is_zero() {
            last_error = Some(timed_out());
            break;
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(socket) => {
                let _ = socket.set_nodelay(true);
                return Ok(Deadlined { socket, deadline });
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(Phase::Connect.failed(match last_error {
        Some(e) => Cause::Io(e),
        None => Cause::NoAddress(host.to_string()),
    }))
}

/// The addresses of `host`, within the deadline. A name is looked up on a
/// thread of its own, because the system resolver has no deadline of ours
/// and may wait far longer on a dead DNS server; if it does, the thread is
/// left behind and the request fails as never sent. When no thread can be
/// started (a pids or nproc limit), the lookup runs here: musl's resolver
/// gives up by itself after a few seconds, and a late answer still counts
/// against the deadline.
fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, TransportError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (send, receive) = mpsc::channel();
    let name = host.to_string();
    let lookup = std::thread::Builder::new().spawn(move || {
        let _ = send.send((name.as_str(), port).to_socket_addrs());
    });
    let answer = match lookup {
        Ok(_) => {
            let left = clock::left_until(deadline);
            receive
                .recv_timeout(left)
                .unwrap_or_else(|_| Err(timed_out()))
        }
        Err(_) => match (host, port).to_socket_addrs() {
            _ if clock::left_until(deadline).is_zero() => Err(timed_out()),
            answer => answer,
        },
    };
    answer
        .map(Iterator::collect)
        .map_err(|e| Phase::Resolve.failed(Cause::Io(e)))
}

/// A connected socket with the time left before the deadline applied to
/// each read and write.
pub struct Deadlined {
    socket: TcpStream,
    deadline: Instant,
}

impl Deadlined {
    fn time_left(&self) -> io::Result<Duration> {
        let left = clock::left_until(self.deadline);
        match left.is_zero() {
            true => Err(timed_out()),
            false => Ok(left),
        }
    }
}

/// A timed-out blocking socket says WouldBlock, which rustls takes for "try
/// later": it is a plain timeout.
fn timeout_as_such(error: io::Error) -> io::Error {
    match error.kind() {
        io::ErrorKind::WouldBlock => timed_out(),
        _ => error,
    }
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let _ = self.socket.set_read_timeout(Some(self.time_left()?));
        self.socket.read(buf).map_err(timeout_as_such)
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.socket.set_write_timeout(Some(self.time_left()?));
        self.socket.write(buf).map_err(timeout_as_such)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.socket.flush()
    }
}
