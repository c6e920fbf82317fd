//! A private X server (Xvfb) for tests that need a display: [`Xvfb::start`] launches one on a
//! free display number, returns once it accepts connections, and the server is killed when the
//! [`Xvfb`] is dropped. Each test can start its own, so tests running in parallel never share
//! a pointer or windows, and nothing reads or changes `$DISPLAY`.
//!
//! Use it from a test file with `#[path = "common/xvfb.rs"] mod xvfb;`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the server may take to come up (a loaded CI machine can be slow).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to exit cleanly before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running Xvfb, killed on drop.
pub struct Xvfb {
    /// The server process.
    child: Child,
    /// Its display name, e.g. `":97"`.
    display: String,
}

impl Xvfb {
    /// Starts Xvfb with one 1280×800 screen on a display number it picks itself (free at that
    /// moment, so no race with other servers), and waits until it accepts connections.
    ///
    /// Panics if Xvfb is not installed or does not come up within 30 s.
    pub fn start() -> Xvfb {
        // `-displayfd 1`: the server chooses a free display and writes its number to stdout
        // once it is ready for connections.
        let (reader, writer) = std::io::pipe().expect("a pipe for Xvfb's display number");
        let spawned = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24"])
            // -noreset: without it the server resets when its last client leaves, and the
            // readiness check below is a client.
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("Xvfb is not installed: apt-get install xvfb")
            }
            Err(e) => panic!("cannot start Xvfb: {e}"),
        };
        // The Command (and with it our copy of the pipe's write end) is gone, so the read
        // below ends with EOF if the server dies before writing.
        let mut xvfb = Xvfb {
            child,
            display: String::new(),
        };
        let number = read_line_within(reader, START_TIMEOUT);
        let number = number.trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            let status = xvfb.child.try_wait().ok().flatten();
            panic!("Xvfb did not report a display within {START_TIMEOUT:?} (exit: {status:?})");
        }
        xvfb.display = format!(":{number}");
        xvfb.wait_until_accepting();
        xvfb
    }

    /// The display name to connect to, e.g. `":97"`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Connects until a connection succeeds (the server reported ready, but checking costs
    /// nothing and catches a server that died right after).
    fn wait_until_accepting(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match x11rb::connect(Some(&self.display)) {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!("Xvfb on {} refuses connections: {e}", self.display)
                }
                Err(_) => {}
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Xvfb on {} exited: {status}", self.display);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Xvfb {
    /// SIGTERM first, so the server removes its lock file and socket; SIGKILL if it lingers.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let terminated = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while terminated && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line read from `reader`, or "" on EOF or after `timeout`.
fn read_line_within(reader: std::io::PipeReader, timeout: Duration) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(reader).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(timeout).unwrap_or_default()
}
