//! TLS with rustls: a self-signed certificate (made with the `openssl` CLI), `/healthz`
//! over HTTPS with that certificate as the only trusted root.

mod broker_common;

use std::process::Command;

use broker_common::*;
use signoff::broker::{TlsFiles, Tunables};

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl CLI is installed");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let mut s = settings(&dir.path().join("data"), Tunables::default());
    s.tls = Some(TlsFiles {
        cert: cert.clone(),
        key,
    });
    let broker = signoff::broker::spawn(s).await.unwrap();
    let root = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root)
        .build()
        .unwrap();
    let url = format!("https://{}/healthz", broker.addr);
    let resp = client
        .get(&url)
        .send()
        .await
        .expect("TLS handshake and answer");
    assert_eq!(resp.text().await.unwrap(), "ok");
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", broker.addr))
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await;
    assert!(plain.is_err());
    broker.shutdown().await.unwrap();
}
