//! `report.html` in a real browser: Debian's Chromium, headless, driven through
//! ChromeDriver's WebDriver protocol (`scripts/test.sh` installs both and sets
//! `INFRAVERIFY_CHROMIUM` and `INFRAVERIFY_CHROMEDRIVER`). The page must load with no
//! console message, show the failing controls, and keep attacker-controlled names inert.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{infraverify, read_json};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/lifetimecircle/snapshot.json"
);

fn tool(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the suite with scripts/test.sh, which installs Chromium and ChromeDriver")
    })
}

/// ChromeDriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(tool("INFRAVERIFY_CHROMEDRIVER"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        for _ in 0..100 {
            if let Ok(r) = d.http.get(format!("{}/status", d.base)).send().await {
                let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
                if v["value"]["ready"] == true {
                    return d;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not become ready on port {port}");
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("chromedriver answers");
        let status = resp.status();
        let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert!(status.is_success(), "{path}: {status} {v}");
        v["value"].clone()
    }

    /// A headless browser session; its profile is a fresh directory.
    async fn session(&self, profile: &Path) -> String {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tool("INFRAVERIFY_CHROMIUM"),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1280,1600",
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = self
            .call(reqwest::Method::POST, "/session", Some(caps))
            .await;
        v["sessionId"].as_str().unwrap().to_string()
    }
}

/// What the page holds once loaded, read through the DOM (the WebDriver script runs
/// outside the page's Content-Security-Policy; the page itself runs nothing).
const INSPECT: &str = r##"
const row = document.getElementById(arguments[0]);
row.scrollIntoView({block: "center"});
const r = row.getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
return {
  title: document.title,
  scripts: document.scripts.length,
  images: document.images.length,
  svg: document.querySelectorAll("svg").length,
  handlers: [...document.querySelectorAll("*")]
    .filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
  failures: [...document.querySelectorAll("#failures article.finding.fail")].filter(shown).length,
  row_text: row.innerText,
  row_on_top: row.contains(hit),
  badge: getComputedStyle(row.querySelector(".badge")).backgroundColor,
  text: document.body.innerText,
  all_text: document.body.textContent,
};
"##;

struct Seen {
    page: Value,
    console: Vec<Value>,
    /// Screenshots: the control's row, then the failures in detail.
    png: Vec<Vec<u8>>,
}

async fn open(html: &Path, control: &str) -> Seen {
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let id = driver.session(profile.path()).await;
    let s = |p: &str| format!("/session/{id}{p}");
    driver
        .call(
            reqwest::Method::POST,
            &s("/url"),
            Some(json!({"url": format!("file://{}", html.display())})),
        )
        .await;
    let page = driver
        .call(
            reqwest::Method::POST,
            &s("/execute/sync"),
            Some(json!({"script": INSPECT, "args": [control]})),
        )
        .await;
    let console = driver
        .call(
            reqwest::Method::POST,
            &s("/se/log"),
            Some(json!({"type": "browser"})),
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default();
    // The failing control, then the first failure in detail.
    let mut png = Vec::new();
    for at in [control, "failures"] {
        driver
            .call(
                reqwest::Method::POST,
                &s("/execute/sync"),
                Some(json!({
                    "script": "document.getElementById(arguments[0]).scrollIntoView();",
                    "args": [at],
                })),
            )
            .await;
        let shot = driver
            .call(reqwest::Method::GET, &s("/screenshot"), None)
            .await;
        png.push(infraverify::evidence::unbase64(shot.as_str().unwrap()).expect("a base64 PNG"));
    }
    driver.call(reqwest::Method::DELETE, &s(""), None).await;
    Seen { page, console, png }
}

fn html_of(dir: &Path, snapshot: &str) -> PathBuf {
    let out = infraverify(dir)
        .args(["evaluate", snapshot, "--format", "html", "--format", "json"])
        .args(["--out-dir", "reports"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("reports/report.html")
}

/// The screenshots are kept beside the build (`target/tmp/NAME-N.png`), for a person to
/// look at.
fn keep(name: &str, pngs: &[Vec<u8>]) {
    for (i, png) in pngs.iter().enumerate() {
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
            "a real screenshot"
        );
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}.png", i + 1));
        std::fs::write(&path, png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_report_renders_in_chromium_with_its_failures_visible() {
    let dir = tempfile::tempdir().unwrap();
    let html = html_of(dir.path(), EXAMPLE);
    let report = read_json(&dir.path().join("reports/report.json"));
    let fails = report["summary"]["fail"].as_u64().unwrap();
    assert_eq!(fails, 11);

    let seen = open(&html, "control-SG-4").await;
    keep("report-example", &seen.png);
    assert!(
        seen.console.is_empty(),
        "console messages: {:?}",
        seen.console
    );
    let p = &seen.page;
    assert_eq!(p["failures"], fails, "every failure is shown: {p}");
    assert_eq!(p["row_on_top"], true, "the failing control is visible: {p}");
    let row = p["row_text"].as_str().unwrap();
    assert!(
        row.contains("SG-4") && row.contains("FAIL") && row.contains("lc-debug-ssh"),
        "{row}"
    );
    // The inline style applied, so the page's policy admits it by its hash.
    assert_eq!(p["badge"], "rgb(179, 38, 30)", "{p}");
    assert_eq!(p["title"], "infraverify report: 123456789012");
    let text = p["text"].as_str().unwrap();
    assert!(text.contains("Exit 1: violations found."), "{text}");
    for section in [
        "Failures (11)",
        "Manual controls and attestations (2)",
        "Passed (",
        "Skipped (",
    ] {
        assert!(text.contains(section), "{section}: {text}");
    }
}

/// Names, tags and so messages come from the account: a name that is markup stays text.
#[tokio::test(flavor = "multi_thread")]
async fn markup_in_names_tags_and_messages_renders_inert() {
    const SCRIPT: &str = r#"<script>document.title="pwned-script"</script>"#;
    const IMG: &str = r#""><img src=x onerror="document.title='pwned-img'">"#;
    const SVG: &str = r#"'><svg onload="document.title='pwned-svg'">"#;
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(EXAMPLE).unwrap();
    let json_str = |s: &str| {
        serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    // A security group's name, a subnet's Name tag and an ECR repository's name; each
    // reaches a failing finding's resource and message, or a passing one's.
    for (from, to) in [
        ("lc-debug-ssh", SCRIPT),
        ("lc-public-a", IMG),
        ("lifetimecircle-jobs", SVG),
    ] {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, &json_str(to));
    }
    std::fs::write(dir.path().join("snap.json"), text).unwrap();
    let html = html_of(dir.path(), "snap.json");
    let raw = std::fs::read_to_string(&html).unwrap();
    for payload in [SCRIPT, IMG, SVG] {
        assert!(!raw.contains(payload), "{payload} is in the page unescaped");
    }

    let seen = open(&html, "control-SG-4").await;
    keep("report-injection", &seen.png);
    assert!(
        seen.console.is_empty(),
        "console messages: {:?}",
        seen.console
    );
    let p = &seen.page;
    assert_eq!(p["title"], "infraverify report: 123456789012", "{p}");
    assert_eq!(
        (&p["scripts"], &p["images"], &p["svg"]),
        (&json!(0), &json!(0), &json!(0)),
        "{p}"
    );
    assert_eq!(p["handlers"], 0, "no element has an event handler: {p}");
    // Each payload is the text it is (passes are folded away, so in the page's text, not
    // all on screen).
    let text = p["all_text"].as_str().unwrap();
    for payload in [SCRIPT, IMG, SVG] {
        assert!(text.contains(payload), "{payload} is not shown as text");
    }
    assert!(p["row_text"].as_str().unwrap().contains(SCRIPT), "{p}");
}
