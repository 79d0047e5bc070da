//! A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with the response the
//! current fuzz input chose, and remembers the requests it got.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One canned answer.
#[derive(Clone, Default)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

/// The running server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let addr = listener.local_addr().expect("the port");
        let answer = Arc::new(Mutex::new(Answer::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (a, r) = (Arc::clone(&answer), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let answer = a.lock().expect("the answer").clone();
                let requests = Arc::clone(&r);
                std::thread::spawn(move || {
                    let _ = serve(stream, &answer, &requests);
                });
            }
        });
        Self { addr, answer, requests }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the answer for the next requests and forgets the earlier requests.
    pub(crate) fn answer(&self, answer: Answer) {
        *self.answer.lock().expect("the answer") = answer;
        self.requests.lock().expect("the requests").clear();
    }

    /// The request lines and headers received since the last `answer`.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("the requests").clone()
    }
}

fn serve(stream: TcpStream, answer: &Answer, requests: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = String::new();
    let mut length = 0_usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    head.push_str(&String::from_utf8_lossy(&body));
    requests.lock().expect("the requests").push(head);
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        answer.status,
        answer.content_type,
        answer.body.len()
    )?;
    out.write_all(&answer.body)?;
    out.flush()
}
