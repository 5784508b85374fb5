//! What the benchmarks share: they sign in through the HTTP API as users do.

/// The session cookie (`moth_session=...`) a sign-up or sign-in set, as a `Cookie` header value.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("moth_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}
