//! The listener's limits on loopback: a client that trickles its headers or its body is cut
//! off, and no more connections are served at once than configured.

use std::time::{Duration, Instant};

use assay_server::listen::{Limits, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Serve the test app on 127.0.0.1 with `limits`; the address, and the sender that stops it.
async fn listening(limits: Limits) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>, super::App) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = super::app().await;
    tokio::spawn(serve(listener, app.router.clone(), limits, async move { drop(stopped.await) }));
    (address, stop, app)
}

/// Read until the peer closes (or `within` passes): what was read, and whether it closed.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
    }
}

fn limits(header_secs: u64, body_secs: u64, connections: usize) -> Limits {
    Limits {
        header_timeout: Duration::from_secs(header_secs),
        body_timeout: Duration::from_secs(body_secs),
        max_connections: connections,
        drain: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    let (address, _stop, _app) = listening(limits(1, 30, 16)).await;
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    // One header line every 200 ms, for up to 10 s: the server must close well before.
    let started = Instant::now();
    let mut closed = false;
    for i in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if slow.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut probe)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "a client sending a header line every 200 ms kept its connection for 10 s");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off after {:?}", started.elapsed());
    // A prompt client is served as ever.
    let mut prompt = TcpStream::connect(address).await.unwrap();
    prompt.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let (reply, _) = until_closed(&mut prompt, Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test]
async fn a_client_trickling_its_body_is_cut_off() {
    let (address, _stop, app) = listening(limits(10, 1, 16)).await;
    let mut slow = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v1/listings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        app.acme
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(b"{\"slug\": ").await.unwrap();
    let started = Instant::now();
    let (reply, closed) = until_closed(&mut slow, Duration::from_secs(10)).await;
    // Authorised, the handler waits for the body: the answer comes from the body timeout.
    assert!(closed || reply.starts_with("HTTP/1.1 4"), "a stalled body held the request for 10 s: {reply}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(800) && waited < Duration::from_secs(5), "cut off after {waited:?}");
}

#[tokio::test]
async fn no_more_connections_are_served_at_once_than_allowed() {
    let (address, _stop, _app) = listening(limits(2, 30, 2)).await;
    // Two clients hold both connections without sending a byte.
    let idle = [TcpStream::connect(address).await.unwrap(), TcpStream::connect(address).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A third is accepted by the kernel but not served until a slot frees...
    let started = Instant::now();
    let mut third = TcpStream::connect(address).await.unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let (early, _) = until_closed(&mut third, Duration::from_millis(800)).await;
    assert_eq!(early, "", "the third connection was served while two held every slot");
    // ...which the header timeout does: the idle ones are closed, and the third is answered.
    let (reply, _) = until_closed(&mut third, Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(started.elapsed() >= Duration::from_millis(1500), "served after {:?}", started.elapsed());
    drop(idle);
}
