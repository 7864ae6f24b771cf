//! JSON-RPC 1.0 over HTTP to a Bitcoin node, the way Bitcoin Core's `bitcoind` serves it:
//! one `POST` per call with basic authentication (a user and password, or the `.cookie`
//! file's `__cookie__:<hex>`), the answer `{"result": ..., "error": ..., "id": ...}`.
//!
//! The HTTP client is `ureq` (plain HTTP; a node's RPC port does not speak TLS).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

/// The most bytes an answer may have: a full mainnet template is about 9 MB of JSON.
const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// How to authenticate to the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// The node's cookie file (`<datadir>/.cookie`, `<datadir>/regtest/.cookie`, ...): one
    /// line `user:password`. Read again for every call, so a restarted node's new cookie
    /// is picked up.
    Cookie(PathBuf),
    /// `-rpcuser` / `-rpcpassword` (or an `-rpcauth` user).
    UserPass {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

/// Why an RPC call failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpcError {
    /// The node could not be reached (connection refused, host not found, reset): worth
    /// retrying.
    Unreachable(String),
    /// The call took longer than the client's timeout (for a long poll: no change).
    TimedOut,
    /// The node refused the credentials (HTTP 401 or 403).
    Unauthorized(u16),
    /// The cookie file could not be read.
    Cookie {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The node answered with an RPC error object (`{"code": ..., "message": ...}`).
    Rpc {
        /// The error code (Core's `RPCErrorCode`: -8 invalid parameter, -9 not
        /// connected, -10 in initial block download, -32601 method not found, ...).
        code: i64,
        /// The message.
        message: String,
    },
    /// An HTTP status other than success, without a JSON-RPC error in the body.
    Http(u16),
    /// The answer is not a JSON-RPC response.
    BadResponse(String),
    /// The URL is not an `http://` URL.
    BadUrl(String),
}

impl RpcError {
    /// Whether trying again later may succeed: the node unreachable, warming up (-28),
    /// not connected (-9), in initial block download (-10), or an HTTP error 5xx without
    /// an RPC error object.
    pub fn is_transient(&self) -> bool {
        match self {
            RpcError::Unreachable(_) | RpcError::TimedOut => true,
            RpcError::Rpc { code, .. } => matches!(code, -28 | -9 | -10),
            RpcError::Http(status) => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Unreachable(e) => write!(f, "node unreachable: {e}"),
            RpcError::TimedOut => f.write_str("the node did not answer in time"),
            RpcError::Unauthorized(status) => write!(
                f,
                "the node refused the credentials (HTTP {status}); check --rpc-cookie or --rpc-user/--rpc-password"
            ),
            RpcError::Cookie { path, reason } => {
                write!(
                    f,
                    "cannot read the cookie file {}: {reason}",
                    path.display()
                )
            }
            RpcError::Rpc { code, message } => write!(f, "RPC error {code}: {message}"),
            RpcError::Http(status) => write!(f, "the node answered HTTP {status}"),
            RpcError::BadResponse(e) => write!(f, "bad answer from the node: {e}"),
            RpcError::BadUrl(u) => write!(f, "bad node URL {u:?}: expected http://HOST:PORT"),
        }
    }
}

impl core::error::Error for RpcError {}

/// A JSON-RPC client for one node URL.
#[derive(Clone, Debug)]
pub struct RpcClient {
    url: String,
    auth: Auth,
    agent: ureq::Agent,
}

impl RpcClient {
    /// A client for `url` (`http://host:port` or `host:port`, optionally with a path
    /// such as `/wallet/name`). Each call may take up to `timeout`.
    ///
    /// # Errors
    ///
    /// [`RpcError::BadUrl`] for a URL that is not `http://...`.
    pub fn new(url: &str, auth: Auth, timeout: Duration) -> Result<RpcClient, RpcError> {
        // `HOST:PORT` alone means plain HTTP, as bitcoin-cli's -rpcconnect does.
        let url = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| RpcError::BadUrl(url.clone()))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(RpcError::BadUrl(url));
        }
        // No pooled connections: each call opens its own, so a node that went away (or
        // restarted) is noticed at the next call instead of on a dead pooled socket.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .build()
            .into();
        Ok(RpcClient { url, auth, agent })
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn authorization(&self) -> Result<Option<String>, RpcError> {
        let userpass = match &self.auth {
            Auth::None => return Ok(None),
            Auth::UserPass { user, password } => format!("{user}:{password}"),
            Auth::Cookie(path) => {
                let s = std::fs::read_to_string(path).map_err(|e| RpcError::Cookie {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                let line = s.lines().next().unwrap_or("").trim().to_owned();
                if !line.contains(':') {
                    return Err(RpcError::Cookie {
                        path: path.clone(),
                        reason: "expected one line user:password".into(),
                    });
                }
                line
            }
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(userpass);
        Ok(Some(format!("Basic {encoded}")))
    }

    /// Calls `method` with positional `params` and returns its `result`.
    ///
    /// # Errors
    ///
    /// Every [`RpcError`]: the node's error object as [`RpcError::Rpc`].
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body =
            json!({"jsonrpc": "1.0", "id": "sha256d-engine", "method": method, "params": params})
                .to_string();
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(a) = self.authorization()? {
            request = request.header("Authorization", &a);
        }
        let mut response = request.send(body.as_str()).map_err(transport_error)?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(RpcError::Unauthorized(status));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(transport_error)?;
        // Core answers RPC errors with HTTP 500 (or 404 for an unknown method) and the
        // error object in the body: read the body first.
        let v: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) if !(200..300).contains(&status) => return Err(RpcError::Http(status)),
            Err(e) => return Err(RpcError::BadResponse(format!("not JSON: {e}"))),
        };
        let obj = v
            .as_object()
            .ok_or_else(|| RpcError::BadResponse("not a JSON object".into()))?;
        match obj.get("error") {
            None | Some(Value::Null) => {}
            Some(e) => {
                return Err(RpcError::Rpc {
                    code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .map_or_else(|| e.to_string(), str::to_owned),
                });
            }
        }
        if !(200..300).contains(&status) {
            return Err(RpcError::Http(status));
        }
        obj.get("result")
            .cloned()
            .ok_or_else(|| RpcError::BadResponse("no \"result\" field".into()))
    }
}

fn transport_error(e: ureq::Error) -> RpcError {
    match e {
        ureq::Error::BadUri(u) => RpcError::BadUrl(u),
        ureq::Error::Timeout(_) => RpcError::TimedOut,
        ureq::Error::BodyExceedsLimit(n) => {
            RpcError::BadResponse(format!("answer larger than {n} bytes"))
        }
        other => RpcError::Unreachable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Duration::from_secs(1);
        assert!(RpcClient::new("http://127.0.0.1:18443", Auth::None, t).is_ok());
        assert!(matches!(
            RpcClient::new("https://x:1", Auth::None, t),
            Err(RpcError::BadUrl(_))
        ));
        assert_eq!(
            RpcClient::new("127.0.0.1:18443", Auth::None, t)
                .unwrap()
                .url(),
            "http://127.0.0.1:18443"
        );
        assert!(matches!(
            RpcClient::new("http:///x", Auth::None, t),
            Err(RpcError::BadUrl(_))
        ));
    }

    #[test]
    fn transient() {
        assert!(RpcError::Unreachable("x".into()).is_transient());
        assert!(
            RpcError::Rpc {
                code: -10,
                message: "ibd".into()
            }
            .is_transient()
        );
        assert!(!RpcError::Unauthorized(401).is_transient());
        assert!(
            !RpcError::Rpc {
                code: -32601,
                message: "nope".into()
            }
            .is_transient()
        );
    }

    #[test]
    fn missing_cookie() {
        let c = RpcClient::new(
            "http://127.0.0.1:1",
            Auth::Cookie("/nonexistent/.cookie".into()),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(matches!(
            c.call("getblockchaininfo", json!([])),
            Err(RpcError::Cookie { .. })
        ));
    }
}
