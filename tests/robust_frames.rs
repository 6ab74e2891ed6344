//! Malformed frames, both ways, over real websockets on 127.0.0.1.
//!
//! Broker side: a real broker gets garbage (not JSON, not an object, binary, oversized,
//! a future protocol version, a decide missing its decision) and answers each with its
//! own error code, closes only that connection, and keeps serving everyone else.
//! Console side: a hostile server sends garbage between valid messages; the feed client
//! reports each as garbled, stays connected and still delivers the valid ones.

mod broker_common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message as AxMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use broker_common::{BOB, CAROL, Feed, WAIT};
use futures_util::{SinkExt as _, StreamExt as _};
use signoff::client::{FeedConfig, FeedEvent, FeedHandle, feed};
use signoff::console::fixtures::{identity, sample_queue};
use signoff::identity::FixedToken;
use signoff::protocol::limits::MAX_CLIENT_FRAME;
use signoff::protocol::messages::{ServerMsg, encode};
use signoff::protocol::{ActionRow, ErrorCode, PROTOCOL_VERSION, Timestamp};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// The error a broker sends for `frame` on a fresh connection that already said hello
/// (or, with `before_hello`, as its very first frame), and that the connection closes.
async fn refused(
    broker: &signoff::broker::RunningBroker,
    frame: Message,
    before_hello: bool,
) -> ErrorCode {
    let mut req = broker.feed_url().into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {BOB}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    if !before_hello {
        let hello = encode(&signoff::protocol::ClientMsg::hello("robust/0", None));
        ws.send(Message::Text(hello.into())).await.expect("hello");
    }
    ws.send(frame).await.expect("send the bad frame");
    let mut code = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the broker answers and closes in time");
        match next {
            Some(Ok(Message::Text(t))) => {
                if let Ok(ServerMsg::Error { code: c, .. }) =
                    signoff::protocol::decode_server(t.as_str())
                {
                    code = Some(c);
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => {}
        }
    }
    code.expect("an error message before the close")
}

#[tokio::test]
async fn a_broker_names_each_malformed_frame_and_keeps_serving_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = broker_common::start(dir.path()).await;
    // Another approver's feed stays open through all of it.
    let (mut carol, _) = Feed::connect(&broker, CAROL, None).await;
    assert!(matches!(carol.next().await, ServerMsg::Snapshot { .. }));

    let text = |s: &str| Message::Text(s.to_string().into());
    let cases: Vec<(&str, Message, bool, ErrorCode)> = vec![
        (
            "not JSON",
            text("{\"type\":\"decide\","),
            false,
            ErrorCode::MalformedFrame,
        ),
        (
            "not an object",
            text("[1,2,3]"),
            false,
            ErrorCode::MalformedFrame,
        ),
        (
            "type not a string",
            text("{\"type\":7}"),
            false,
            ErrorCode::InvalidField,
        ),
        (
            "no type",
            text("{\"decision\":{}}"),
            false,
            ErrorCode::MissingField,
        ),
        (
            "decide without a decision",
            text("{\"type\":\"decide\"}"),
            false,
            ErrorCode::MissingField,
        ),
        (
            "binary frame",
            Message::Binary(b"{\"type\":\"hello\"}".to_vec().into()),
            false,
            ErrorCode::MalformedFrame,
        ),
        (
            "over the frame limit",
            text(&format!(
                "{{\"type\":\"query_history\",\"pad\":\"{}\"}}",
                "x".repeat(MAX_CLIENT_FRAME)
            )),
            false,
            ErrorCode::FrameTooLarge,
        ),
        (
            "garbage first",
            text("hello?"),
            true,
            ErrorCode::MalformedFrame,
        ),
        (
            "a future protocol version",
            text(&format!(
                "{{\"type\":\"hello\",\"protocol\":{},\"client\":\"x\"}}",
                PROTOCOL_VERSION + 1
            )),
            true,
            ErrorCode::UnsupportedProtocolVersion,
        ),
    ];
    for (label, frame, before_hello, want) in cases {
        let got = refused(&broker, frame, before_hello).await;
        assert_eq!(got, want, "{label}");
    }

    // A frame far past any limit is cut off by the websocket layer itself: the
    // connection ends without the broker buffering it.
    let mut req = broker.feed_url().into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {BOB}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    let huge = "x".repeat(MAX_CLIENT_FRAME * 4);
    let _ = ws.send(Message::Text(huge.into())).await;
    let ended = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the oversized connection ends in time");
    assert!(ended);

    // Carol's feed is still live, and a new connection is served normally.
    let (mut bob, _) = Feed::connect(&broker, BOB, None).await;
    assert!(matches!(bob.next().await, ServerMsg::Snapshot { .. }));
    let http = broker_common::Http::new(&broker);
    http.submit(
        broker_common::AGENT,
        &broker_common::request("still serving"),
    )
    .await;
    let created = carol.next().await;
    assert!(
        matches!(created, ServerMsg::Pending { .. }),
        "carol still gets events: {created:?}"
    );
}

/// What the hostile server sends after the welcome, in order.
fn hostile_script() -> Vec<AxMessage> {
    let snapshot = ServerMsg::Snapshot {
        seq: 3,
        page: 1,
        pages: 1,
        rows: sample_queue().iter().map(ActionRow::compute).collect(),
    };
    vec![
        AxMessage::Text("{\"type\":\"snapshot\",".into()),
        AxMessage::Text("{\"type\":\"approve_all\",\"seq\":1}".into()),
        AxMessage::Binary(b"\x1b[2J".to_vec().into()),
        AxMessage::Text("\u{1b}]0;pwned\u{7}".into()),
        AxMessage::Text(encode(&snapshot).into()),
    ]
}

async fn hostile_session(mut ws: WebSocket) {
    // The hello first, like any broker.
    let _ = ws.recv().await;
    let welcome = ServerMsg::Welcome {
        protocol: PROTOCOL_VERSION,
        identity: identity("bob"),
        server_time: Timestamp::now(),
        head_seq: 3,
    };
    if ws
        .send(AxMessage::Text(encode(&welcome).into()))
        .await
        .is_err()
    {
        return;
    }
    for m in hostile_script() {
        if ws.send(m).await.is_err() {
            return;
        }
    }
    // Stay connected until the client goes away.
    while let Some(Ok(_)) = ws.recv().await {}
}

async fn hostile_feed(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(hostile_session)
}

async fn next_event(h: &mut FeedHandle) -> FeedEvent {
    tokio::time::timeout(Duration::from_secs(60), h.events.recv())
        .await
        .expect("a feed event in time")
        .expect("the feed is running")
}

#[tokio::test]
async fn the_console_feed_survives_garbage_from_a_broker() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route("/v1/feed", get(hostile_feed));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut h = feed::spawn(
        FeedConfig::new(format!("http://{addr}")),
        Arc::new(FixedToken("tok".into())),
    );
    let mut garbled = Vec::new();
    let snapshot = loop {
        match next_event(&mut h).await {
            FeedEvent::Garbled { reason } => garbled.push(reason),
            FeedEvent::Server(m) if matches!(*m, ServerMsg::Snapshot { .. }) => break m,
            FeedEvent::Disconnected { reason } => panic!("dropped the connection: {reason}"),
            _ => {}
        }
    };
    // Not JSON, an unknown type, and the raw escape sequence: three garbled reports;
    // the binary frame is ignored.
    assert_eq!(garbled.len(), 3, "{garbled:?}");
    assert!(
        garbled.iter().all(|r| !r.contains('\u{1b}')),
        "a garbled report never carries the raw escape: {garbled:?}"
    );
    let ServerMsg::Snapshot { rows, .. } = *snapshot else {
        unreachable!()
    };
    assert_eq!(rows.len(), sample_queue().len());
    server.abort();
}
