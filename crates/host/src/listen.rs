//! Accepting connections for the local host: a cap on open connections and a time limit on
//! request headers, so that idle sockets cannot starve it.
//!
//! Why: any local user can connect to 127.0.0.1 without the token. With no limit, 1 100
//! connections that never send a request used up a 1 024-descriptor process and the real
//! user's browser got nothing. Here a connection that has not finished its request headers
//! within [`HEADER_TIMEOUT`] (also between keep-alive requests) is closed, and at most
//! [`MAX_CONNECTIONS`] are open at once: at the cap, the oldest connection with no request in
//! flight (a response still being sent counts as in flight) is closed to make room, and a new
//! one is dropped only if every open connection is busy. So a flood of idle sockets costs the
//! attacker their own sockets, never the user's request.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// Most connections open at once (browsers use about six per host); well under the common
/// 1 024-descriptor limit, with room for the files being served.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a connection may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Ctrl-C, or on Unix SIGTERM (`kill`) or SIGHUP (the terminal closed): each stops the
/// server the same way, so what it leaves to be cleaned up on return (the browser's redirect
/// file, see `crate::browser`) is removed whichever way it was stopped.
///
/// The handlers are installed by [`StopSignals::register`], before anything that a signal
/// could follow is started: a `kill` that came between the browser being opened and the
/// first wait would otherwise end the process with the redirect file left behind.
pub struct StopSignals {
    #[cfg(unix)]
    streams: Option<[tokio::signal::unix::Signal; 3]>,
}

impl StopSignals {
    /// Installs the handlers now (inside a Tokio runtime). On Unix, a signal that arrives
    /// from here on is kept until [`StopSignals::wait`] sees it.
    pub fn register() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = (|| {
                Some([
                    signal(SignalKind::interrupt()).ok()?,
                    signal(SignalKind::terminate()).ok()?,
                    signal(SignalKind::hangup()).ok()?,
                ])
            })();
            StopSignals { streams }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    /// Until one of the signals arrives.
    pub async fn wait(self) {
        #[cfg(unix)]
        if let Some([mut int, mut term, mut hup]) = self.streams {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves `handle` on `listener` until one of `stop`'s signals.
pub async fn serve<F, Fut>(
    listener: TcpListener,
    stop: StopSignals,
    handle: F,
) -> std::io::Result<()>
where
    F: Fn(Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    let open = Arc::new(Mutex::new(Open::default()));
    let stop = stop.wait();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors (another process's doing, or a burst): wait, then go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Held until the connection is in the table, so that its task (which removes it
        // when done) cannot finish first and leave a stale entry behind.
        let mut table = lock(&open);
        let Some(id) = table.admit() else {
            continue; // every connection busy: this one is dropped (closed)
        };
        let busy = Arc::new(AtomicUsize::new(0));
        let service = {
            let (handle, busy) = (handle.clone(), busy.clone());
            hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let in_flight = InFlight::new(&busy);
                let answer = handle(req.map(Body::new));
                async move {
                    let response = answer.await;
                    Ok::<_, Infallible>(response.map(|inner| Tracked {
                        inner,
                        _in_flight: in_flight,
                    }))
                }
            })
        };
        let task_open = open.clone();
        let task = tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            lock(&task_open).conns.remove(&id);
        });
        table.conns.insert(
            id,
            Conn {
                abort: task.abort_handle(),
                busy,
            },
        );
    }
}

fn lock(open: &Mutex<Open>) -> std::sync::MutexGuard<'_, Open> {
    open.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The open connections, oldest first.
#[derive(Default)]
struct Open {
    next: u64,
    conns: BTreeMap<u64, Conn>,
}

struct Conn {
    abort: tokio::task::AbortHandle,
    /// Requests of this connection in flight (their responses not yet sent).
    busy: Arc<AtomicUsize>,
}

impl Open {
    /// An id for a new connection, closing the oldest idle one at the cap; `None` when all
    /// are busy.
    fn admit(&mut self) -> Option<u64> {
        if self.conns.len() >= MAX_CONNECTIONS {
            let idle = self
                .conns
                .iter()
                .find(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
                .map(|(&id, _)| id)?;
            if let Some(c) = self.conns.remove(&idle) {
                c.abort.abort();
            }
        }
        self.next += 1;
        Some(self.next)
    }
}

/// One request in flight, from the call until its response body is sent or dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(busy: &Arc<AtomicUsize>) -> InFlight {
        busy.fetch_add(1, Ordering::AcqRel);
        InFlight(busy.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight while it is being sent.
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
