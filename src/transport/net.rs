//! The TCP side of a request, under one deadline: name resolution, connect,
//! and a socket whose every read and write gets only the time left.

use super::io_problem;
use crate::failure::Problem;
use crate::text::seconds;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Connects to `host:port` before `deadline` (`timeout` names it in messages).
pub fn connect(
    host: &str,
    port: u16,
    deadline: Instant,
    timeout: Duration,
) -> Result<Deadlined, Problem> {
    let mut last_error = None;
    for address in resolve(host, port, deadline, timeout)? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(not_connected_in(timeout));
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(socket) => {
                let _ = socket.set_nodelay(true);
                return Ok(Deadlined {
                    socket,
                    deadline,
                    timeout,
                    failure: None,
                });
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) if e.kind() == io::ErrorKind::TimedOut => not_connected_in(timeout),
        Some(e) => io_problem(e, timeout),
        None => Problem::Unreachable(format!("{host}: no address found")),
    })
}

/// No connection within the deadline: unlike a timeout after connecting,
/// the request surely never reached the server.
fn not_connected_in(timeout: Duration) -> Problem {
    Problem::Unreachable(format!("no connection within {} s", seconds(timeout)))
}

/// The addresses of `host`, within the deadline. A name is looked up on a
/// thread of its own, because the system resolver has no deadline of ours
/// and may wait far longer on a dead DNS server; if it does, the thread is
/// left behind and the request fails as never sent. When no thread can be
/// started (a pids or nproc limit), the lookup runs here: musl's resolver
/// gives up by itself after a few seconds, and a late answer still counts
/// against the deadline.
fn resolve(
    host: &str,
    port: u16,
    deadline: Instant,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, Problem> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let not_resolved =
        || Problem::Unreachable(format!("name not resolved within {} s", seconds(timeout)));
    let (send, receive) = mpsc::channel();
    let name = host.to_string();
    let lookup = std::thread::Builder::new().spawn(move || {
        let _ = send.send((name.as_str(), port).to_socket_addrs());
    });
    let answer = match lookup {
        Ok(_) => {
            let left = deadline.saturating_duration_since(Instant::now());
            receive.recv_timeout(left).map_err(|_| not_resolved())?
        }
        Err(_) => {
            let answer = (host, port).to_socket_addrs();
            if Instant::now() >= deadline {
                return Err(not_resolved());
            }
            answer
        }
    };
    answer
        .map(Iterator::collect)
        .map_err(|e| io_problem(e, timeout))
}

/// A connected socket with the time left before the deadline applied to
/// each read and write. The first I/O failure is kept, sorted, in `failure`,
/// where the HTTP layer (which sees only a plain I/O error) cannot sort it.
pub struct Deadlined {
    socket: TcpStream,
    deadline: Instant,
    timeout: Duration,
    pub failure: Option<Problem>,
}

impl Deadlined {
    fn time_left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match left.is_zero() {
            true => Err(io::ErrorKind::TimedOut.into()),
            false => Ok(left),
        }
    }

    /// Keeps what `error` means, and gives back a copy for the caller.
    fn keep(&mut self, error: io::Error) -> io::Error {
        // A timed-out blocking socket says WouldBlock, which rustls takes
        // for "try later": make it a plain timeout.
        let error = match error.kind() {
            io::ErrorKind::WouldBlock => io::ErrorKind::TimedOut.into(),
            _ => error,
        };
        let copy = io::Error::new(error.kind(), error.to_string());
        self.failure.get_or_insert(io_problem(error, self.timeout));
        copy
    }
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.time_left().map_err(|e| self.keep(e))?;
        let _ = self.socket.set_read_timeout(Some(left));
        self.socket.read(buf).map_err(|e| self.keep(e))
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.time_left().map_err(|e| self.keep(e))?;
        let _ = self.socket.set_write_timeout(Some(left));
        self.socket.write(buf).map_err(|e| self.keep(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.socket.flush()
    }
}
