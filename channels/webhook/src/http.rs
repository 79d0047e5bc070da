//! A minimal blocking HTTP/1.1 client over `std::net`: one POST per connection
//! (`Connection: close`), `http://` only. Enough for a webhook; no TLS, no redirects.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Headers are refused beyond this size, bodies cut at `MAX_BODY`.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// Where requests go, from an `http://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address (without brackets for IPv6).
    pub host: String,
    /// Port (80 by default).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
    /// The `Host` header.
    pub authority: String,
}

impl Target {
    /// Parses an `http://` URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "url \"{url}\": https is not supported by this plugin; use http:// to a local \
                 gateway or put a TLS-terminating proxy in front"
            ));
        } else {
            return Err(format!("url \"{url}\" must start with http://"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("url \"{url}\" needs a host (and no user:password@)"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| format!("url \"{url}\": unclosed ["))?;
            let port = v6[end + 1..].strip_prefix(':');
            (v6[..end].to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("url \"{url}\": port \"{p}\" is not a number"))?,
            None => 80,
        };
        Ok(Self {
            host,
            port,
            path,
            authority: authority.to_string(),
        })
    }
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body (cut at 1 MiB).
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum HttpError {
    /// No connection: the request never left.
    Connect(io::Error),
    /// No complete answer in time.
    Timeout,
    /// The connection broke while writing or reading.
    Io(io::Error),
    /// The answer is not HTTP.
    BadResponse(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot connect: {e}"),
            Self::Timeout => write!(f, "timed out"),
            Self::Io(e) => write!(f, "connection broken: {e}"),
            Self::BadResponse(m) => write!(f, "bad answer: {m}"),
        }
    }
}

fn io_error(e: io::Error) -> HttpError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::Timeout,
        _ => HttpError::Io(e),
    }
}

/// POSTs `body` to `target` with `headers` (plus Host, Content-Length, Connection).
pub fn post(
    target: &Target,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, HttpError> {
    let addrs = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(HttpError::Connect)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{} has no address", target.host));
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let mut stream = stream.ok_or(HttpError::Connect(last))?;
    stream.set_read_timeout(Some(timeout)).map_err(HttpError::Io)?;
    stream.set_write_timeout(Some(timeout)).map_err(HttpError::Io)?;

    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        target.path,
        target.authority,
        body.len()
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io_error)?;
    stream.write_all(body).map_err(io_error)?;
    stream.flush().map_err(io_error)?;
    read_response(&mut stream)
}

fn read_response(stream: &mut impl Read) -> Result<Response, HttpError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(HttpError::BadResponse("headers too long".into()));
        }
        let n = stream.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            return Err(HttpError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before an answer",
            )));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .filter(|_| status_line.starts_with("HTTP/1."))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| HttpError::BadResponse(format!("status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: buf[head_end + 4..].to_vec(),
    };
    let length = response.header("content-length").and_then(|v| v.parse::<usize>().ok());
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let wanted = length.unwrap_or(usize::MAX).min(MAX_BODY);
    while response.body.len() < wanted {
        let n = stream.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            break;
        }
        response.body.extend_from_slice(&chunk[..n]);
    }
    response.body.truncate(wanted);
    if chunked && length.is_none() {
        response.body = dechunk(&response.body);
    }
    Ok(response)
}

/// Decodes a chunked body (as much as is well formed).
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        let start = line_end + 2;
        if size == 0 || data.len() < start + size {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = data.get(start + size + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let t = Target::parse("http://127.0.0.1:8081/send?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8081, "/send?x=1")
        );
        let t = Target::parse("http://gateway.local").unwrap();
        assert_eq!(
            (t.port, t.path.as_str(), t.authority.as_str()),
            (80, "/", "gateway.local")
        );
        let t = Target::parse("http://[::1]:9000/a").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        assert!(
            Target::parse("https://x/")
                .unwrap_err()
                .contains("https is not supported")
        );
        assert!(Target::parse("ftp://x/").is_err());
        assert!(Target::parse("http://x:port/").is_err());
    }

    #[test]
    fn responses_parse_with_length_chunks_or_eof() {
        let r = read_response(&mut &b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokEXTRA"[..]).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, b"ok".as_slice()));
        let r = read_response(
            &mut &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"[..],
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = read_response(&mut &b"HTTP/1.0 503 Busy\r\nRetry-After: 7\r\n\r\nlater"[..]).unwrap();
        assert_eq!(
            (r.status, r.header("retry-after"), r.body.as_slice()),
            (503, Some("7"), b"later".as_slice())
        );
        assert!(matches!(
            read_response(&mut &b"SMTP hello\r\n\r\n"[..]),
            Err(HttpError::BadResponse(_))
        ));
    }
}
