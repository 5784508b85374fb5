//! A real OpenID Connect provider for the single sign-on tests: `server/tests/oidc-provider`
//! (the certified `oidc-provider` package under Node, installed by `scripts/test`), and a browser
//! that walks the round trip through it (cookies kept, redirects followed one by one).

use std::{
    io::{BufRead, BufReader},
    process::{Child, ChildStdin, Command, Stdio},
    sync::Arc,
};

use reqwest::{cookie::CookieStore, header, Response, StatusCode, Url};

pub struct TestProvider {
    pub issuer: String,
    child: Child,
    /// Held open: the provider exits when it closes (when this test process ends, however it ends).
    _stdin: ChildStdin,
    http: reqwest::Client,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestProvider {
    /// Starts a provider on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
        assert!(
            folder.join("node_modules/oidc-provider").is_dir(),
            "the test identity provider is not installed: run `npm ci` in {} (scripts/test does)",
            folder.display()
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts the test identity provider");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("the provider says its issuer");
        // Keep reading, so that the provider never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let started: serde_json::Value = serde_json::from_str(&line).expect("the provider's first line is JSON");
        let issuer = started["issuer"].as_str().expect("issuer").to_owned();
        Self { issuer, child, _stdin: stdin, http: reqwest::Client::new() }
    }

    /// Registers a client with this redirect URI (dynamic client registration); answers its id and secret.
    pub async fn register(&self, redirect_uri: &str) -> (String, String) {
        let body = serde_json::json!({
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        });
        let response = self.http.post(format!("{}/reg", self.issuer)).json(&body).send().await.expect("register");
        assert_eq!(response.status(), StatusCode::CREATED, "client registration");
        let client: serde_json::Value = response.json().await.expect("json");
        (
            client["client_id"].as_str().expect("id").to_owned(),
            client["client_secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// Sets an account of the provider.
    pub async fn account(&self, sub: &str, email: &str, email_verified: bool, disabled: bool) {
        let body =
            serde_json::json!({ "sub": sub, "email": email, "email_verified": email_verified, "disabled": disabled });
        let response =
            self.http.post(format!("{}/test/accounts", self.issuer)).json(&body).send().await.expect("account");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// Makes the next token answer carry an ID token with this one fault (see `provider.mjs`).
    pub async fn fault(&self, fault: &str) {
        let body = serde_json::json!({ "fault": fault });
        let response = self.http.post(format!("{}/test/fault", self.issuer)).json(&body).send().await.expect("fault");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
}

/// A browser: one cookie jar for Moth and the provider, redirects taken one at a time.
pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    moth: String,
}

impl Browser {
    pub fn new(moth: &str) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .expect("client");
        Self { http, jar, moth: moth.to_owned() }
    }

    /// The cookies this browser sends Moth, as a `Cookie` header (for `TestApp::call`).
    pub fn cookie(&self) -> String {
        let url = Url::parse(&self.moth).expect("moth url");
        self.jar.cookies(&url).and_then(|v| v.to_str().ok().map(str::to_owned)).unwrap_or_default()
    }

    pub async fn get(&self, url: &str) -> Response {
        self.http.get(url).send().await.expect("GET")
    }

    /// Starts a round trip for `team`, signs in at the provider as `sub`, and follows the
    /// provider's redirects up to Moth's callback: answers the callback's address, not yet visited.
    pub async fn to_callback(&self, team: &str, sub: &str) -> String {
        let started = self.get(&format!("{}/sso/{team}/start", self.moth)).await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER, "the start sends the browser to the provider");
        let mut url = location(&started, &self.moth);
        loop {
            if url.starts_with(&format!("{}/sso/callback", self.moth)) {
                return url;
            }
            let response = self.get(&url).await;
            if response.status() == StatusCode::OK {
                // The provider's sign-in form (`/interaction/<uid>`), which posts a username to
                // `/interaction/<uid>/login`.
                assert!(url.contains("/interaction/"), "a page other than the provider's form: {url}");
                let login_url = format!("{}/login", url.trim_end_matches('/'));
                let posted = self.http.post(&login_url).form(&[("login", sub)]).send().await.expect("login");
                assert_eq!(posted.status(), StatusCode::SEE_OTHER, "the provider takes the login");
                url = location(&posted, &url);
                continue;
            }
            assert!(response.status().is_redirection(), "the provider redirects: {} at {url}", response.status());
            url = location(&response, &url);
        }
    }
}

/// A redirect's target, resolved against the address that answered it.
fn location(response: &Response, base: &str) -> String {
    let to = response.headers().get(header::LOCATION).expect("Location").to_str().expect("ascii");
    Url::parse(base).expect("base").join(to).expect("join").to_string()
}
