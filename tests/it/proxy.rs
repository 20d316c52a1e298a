//! A small HTTP/1.1 proxy in front of the emulator that can answer chosen requests itself:
//! the way to make one AWS service fail (AccessDenied, throttling, 5xx) while the others
//! keep answering. Requests are picked by the service name in their SigV4 credential scope.
//! Loopback only; each connection carries one request and is then closed.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A canned answer: status line and body, with a content type.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: String,
}

impl Canned {
    /// Accepts the request and never answers (the connection stays open until the proxy
    /// is dropped or five minutes pass).
    pub fn stall() -> Canned {
        Canned {
            status: "",
            content_type: "",
            body: String::new(),
        }
    }

    /// AWS's throttling answer, in the request's protocol (EC2, other query services, JSON,
    /// REST-XML).
    pub fn throttled(req: &Request) -> Canned {
        let query = req.body.contains("Action=");
        if req.service == "ec2" {
            Canned {
                status: "503 Service Unavailable",
                content_type: "text/xml",
                body: "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>".into(),
            }
        } else if !query && req.head.to_ascii_lowercase().contains("x-amz-target:") {
            Canned {
                status: "400 Bad Request",
                content_type: "application/x-amz-json-1.1",
                body: r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
            }
        } else {
            Canned {
                status: "400 Bad Request",
                content_type: "text/xml",
                body: "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>".into(),
            }
        }
    }

    /// A 503 without a usable error code, as an overloaded front end answers.
    pub fn unavailable() -> Canned {
        Canned {
            status: "503 Service Unavailable",
            content_type: "text/plain",
            body: "Service Unavailable".into(),
        }
    }

    /// What STS answers a signature made with keys it does not know (revoked, or from
    /// another partition).
    pub fn invalid_token() -> Canned {
        Canned {
            status: "403 Forbidden",
            content_type: "text/xml",
            body: "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                   <Message>The security token included in the request is invalid.</Message>\
                   </Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
                .into(),
        }
    }

    /// What AWS answers a query-protocol call (RDS, EC2-style XML) that IAM refuses.
    pub fn access_denied(action: &str) -> Canned {
        Canned {
            status: "403 Forbidden",
            content_type: "text/xml",
            body: format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                 <Message>User: arn:aws:iam::123456789012:user/ci-readonly is not authorized to perform: {action}</Message>\
                 </Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            ),
        }
    }
}

/// Decides, per request, whether to answer it: `Some(answer)`, or `None` to forward it.
pub type Rule = dyn Fn(&Request) -> Option<Canned> + Send + Sync;

#[derive(Debug)]
pub struct Request {
    /// The service in the SigV4 scope (`rds`, `ec2`, `ecs`, `elasticloadbalancing`, `sts`).
    pub service: String,
    pub body: String,
    /// The request line and headers.
    pub head: String,
}

impl Request {
    /// The operation, whatever the protocol: `Action=` of a query body, the `X-Amz-Target`
    /// of a JSON call, else the HTTP method and path of a REST call.
    pub fn operation(&self) -> String {
        if let Some(a) = self
            .body
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
        {
            return a.to_string();
        }
        let target = self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-amz-target")
                .then(|| v.trim().to_string())
        });
        match target {
            Some(t) => t.rsplit('.').next().unwrap_or(&t).to_string(),
            None => self.head.lines().next().unwrap_or("").to_string(),
        }
    }
}

pub struct Proxy {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

/// Real latency, measured: every forwarded call is held `delay` before it goes upstream,
/// and the meter counts the calls in flight, in all and per signing key and region (an
/// assumed role's keys are its account's; STS, where the base keys assume each role, is
/// counted in all only).
#[derive(Debug, Default)]
pub struct Meter {
    pub delay: std::time::Duration,
    state: std::sync::Mutex<MeterState>,
}

#[derive(Debug, Default)]
struct MeterState {
    now: usize,
    per: std::collections::BTreeMap<String, usize>,
    /// The most in flight at once: in all, and in any one key and region.
    max: usize,
    max_per: usize,
    calls: usize,
}

impl Meter {
    pub fn new(delay: std::time::Duration) -> Arc<Meter> {
        Arc::new(Meter {
            delay,
            state: Default::default(),
        })
    }

    fn enter(&self, key: &str) {
        let mut s = self.state.lock().unwrap();
        s.now += 1;
        s.calls += 1;
        s.max = s.max.max(s.now);
        if key.is_empty() {
            return;
        }
        let n = {
            let n = s.per.entry(key.to_string()).or_default();
            *n += 1;
            *n
        };
        s.max_per = s.max_per.max(n);
    }

    fn exit(&self, key: &str) {
        let mut s = self.state.lock().unwrap();
        s.now -= 1;
        if !key.is_empty() {
            *s.per.get_mut(key).unwrap() -= 1;
        }
    }

    /// (calls, most in flight at once, most in flight in one key and region).
    pub fn figures(&self) -> (usize, usize, usize) {
        let s = self.state.lock().unwrap();
        (s.calls, s.max, s.max_per)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the proxy on a free loopback port, forwarding to `upstream` (`http://host:port`).
pub async fn start(upstream: &str, rule: Arc<Rule>) -> Proxy {
    start_with(upstream, rule, None, None).await
}

/// [`start`], holding each forwarded call for the meter's delay and counting it.
pub async fn metered(upstream: &str, rule: Arc<Rule>, meter: Arc<Meter>) -> Proxy {
    start_with(upstream, rule, None, Some(meter)).await
}

/// A proxy that forwards every request as made by another emulated account: moto keeps
/// each account's resources apart (Route 53 included, which is global within an account),
/// so a test can own a whole account.
pub async fn for_account(upstream: &str, account: &str) -> Proxy {
    start_with(
        upstream,
        Arc::new(|_: &Request| None),
        Some(account.to_string()),
        None,
    )
    .await
}

async fn start_with(
    upstream: &str,
    rule: Arc<Rule>,
    account: Option<String>,
    meter: Option<Arc<Meter>>,
) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let task = tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let upstream = upstream.clone();
            let rule = rule.clone();
            let account = account.clone();
            let meter = meter.clone();
            tokio::spawn(async move {
                let _ = handle(client, &upstream, rule, account.as_deref(), meter).await;
            });
        }
    });
    Proxy { url, task }
}

async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the test proxy handles Content-Length bodies only"
    );
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, body)))
}

/// A part of the SigV4 credential scope: 0 the access key, 2 the region, 3 the service.
/// Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
fn scope_part(head: &str, i: usize) -> String {
    head.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .and_then(|l| l.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(i))
        .unwrap_or("")
        .to_string()
}

fn service_of(head: &str) -> String {
    scope_part(head, 3)
}

async fn handle(
    mut client: TcpStream,
    upstream: &str,
    rule: Arc<Rule>,
    account: Option<&str>,
    meter: Option<Arc<Meter>>,
) -> std::io::Result<()> {
    let Some((head, body)) = read_request(&mut client).await? else {
        return Ok(());
    };
    let req = Request {
        service: service_of(&head),
        body: String::from_utf8_lossy(&body).into_owned(),
        head: head.clone(),
    };
    if let Some(answer) = rule(&req) {
        if answer.status.is_empty() {
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
            return Ok(());
        }
        let resp = format!(
            "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            answer.status,
            answer.content_type,
            answer.body.len(),
            answer.body
        );
        client.write_all(resp.as_bytes()).await?;
        return client.shutdown().await;
    }
    // Forward with Connection: close, relay the whole answer, close.
    let mut forwarded: String = head
        .trim_end_matches("\r\n")
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    if let Some(a) = account {
        forwarded.push_str(&format!("x-moto-account-id: {a}\r\n"));
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let key = if service_of(&head) == "sts" {
        String::new()
    } else {
        format!("{} {}", scope_part(&head, 0), scope_part(&head, 2))
    };
    if let Some(m) = &meter {
        m.enter(&key);
        tokio::time::sleep(m.delay).await;
    }
    let relayed = relay(&mut client, upstream, &forwarded, &body).await;
    if let Some(m) = &meter {
        m.exit(&key);
    }
    relayed?;
    client.shutdown().await
}

async fn relay(
    client: &mut TcpStream,
    upstream: &str,
    forwarded: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(forwarded.as_bytes()).await?;
    up.write_all(body).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    client.write_all(&answer).await
}
