//! rswebhook: a Vigil notifier written in Rust, as a WebAssembly module.
//!
//! It POSTs each notification as Alertmanager's webhook message (version
//! 4) to the URL of its config, through the host's `http_request`, which
//! reaches only the hosts of the plugin block's `allow_hosts`. It is
//! written from `sdk/wasm/ABI.md` alone, with Rust's standard library and
//! no crates: the few protobuf messages and the JSON it reads and writes
//! are coded by hand below. Build it with rustc directly:
//!
//!     rustc --edition=2021 --crate-type=cdylib --target=wasm32-wasi \
//!       -C opt-level=s -C strip=symbols -o rswebhook.wasm notifier.rs

use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

// ---------------------------------------------------------------------
// The ABI: memory, versions and result frames.

#[no_mangle]
pub extern "C" fn vigil_abi_version() -> u32 {
    1
}

/// Sets aside size bytes, with the size kept in the four bytes in front,
/// so that vigil_free can undo it from the address alone.
#[no_mangle]
pub extern "C" fn vigil_alloc(size: u32) -> *mut u8 {
    let layout = match Layout::from_size_align(size as usize + 4, 4) {
        Ok(l) => l,
        Err(_) => return std::ptr::null_mut(),
    };
    unsafe {
        let p = alloc(layout);
        if p.is_null() {
            return p;
        }
        (p as *mut u32).write(size);
        p.add(4)
    }
}

#[no_mangle]
pub extern "C" fn vigil_free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    unsafe {
        let p = ptr.sub(4);
        let size = (p as *const u32).read();
        dealloc(p, Layout::from_size_align_unchecked(size as usize + 4, 4));
    }
}

const OK: u8 = 0;
const ERROR: u8 = 1;
const BAD_REQUEST: u8 = 2;

/// Lends a result frame to the host: the status byte, then the payload.
fn result(status: u8, payload: &[u8]) -> u64 {
    let p = vigil_alloc(payload.len() as u32 + 1);
    if p.is_null() {
        return 0; // a length of 0: the host fails the call
    }
    unsafe {
        p.write(status);
        std::ptr::copy_nonoverlapping(payload.as_ptr(), p.add(1), payload.len());
    }
    ((p as u64) << 32) | (payload.len() as u64 + 1)
}

/// The request bytes the host lent to a call.
fn request<'a>(ptr: *const u8, len: u32) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

mod host {
    #[link(wasm_import_module = "vigil")]
    extern "C" {
        pub fn log(level: u32, ptr: *const u8, len: u32);
        pub fn http_request(ptr: *const u8, len: u32) -> u64;
    }
}

const LOG_DEBUG: u32 = 2;

fn log(level: u32, msg: &str) {
    unsafe { host::log(level, msg.as_ptr(), msg.len() as u32) }
}

// ---------------------------------------------------------------------
// The calls.

#[no_mangle]
pub extern "C" fn vigil_info(_ptr: *const u8, _len: u32) -> u64 {
    let mut m = Vec::new();
    pb::string(&mut m, 1, "rswebhook");
    pb::string(&mut m, 2, "0.1.0");
    pb::varint_field(&mut m, 3, 3); // KIND_NOTIFIER
    pb::varint_field(&mut m, 4, 1); // protocol version
    pb::string(&mut m, 5, "delivers-to-url");
    pb::string(&mut m, 6, "POSTs notifications as Alertmanager's webhook message, version 4 (a module written in Rust).");
    result(OK, &m)
}

const STRING: u64 = 1;
const NUMBER: u64 = 2;
const STRING_MAP: u64 = 6;

#[no_mangle]
pub extern "C" fn vigil_schema(_ptr: *const u8, _len: u32) -> u64 {
    let mut m = Vec::new();
    for (name, typ, required, sensitive, default, description) in [
        ("url", STRING, true, true, "", "The http or https URL to POST notifications to; a secret, since it often holds a token."),
        ("max_alerts", NUMBER, false, false, "0", "The most alerts one message carries; the others are left out and counted in truncatedAlerts. 0 sends them all."),
        ("headers", STRING_MAP, false, true, "", "Extra HTTP headers sent with every notification; secrets, since they often hold an API key."),
    ] {
        let mut a = Vec::new();
        pb::string(&mut a, 1, name);
        pb::varint_field(&mut a, 2, typ);
        pb::varint_field(&mut a, 3, required as u64);
        pb::varint_field(&mut a, 4, sensitive as u64);
        pb::string(&mut a, 5, default);
        pb::string(&mut a, 6, description);
        pb::bytes(&mut m, 1, &a);
    }
    result(OK, &m)
}

/// What the module keeps between calls: its config, once the host gave
/// one it takes.
struct Config {
    url: String,
    max_alerts: usize,
    headers: Vec<(String, String)>,
}

thread_local! {
    static CONFIG: RefCell<Option<Config>> = RefCell::new(None);
}

/// Headers the module sets itself, which the config may not.
const RESERVED: [&str; 7] = [
    "connection", "content-encoding", "content-length", "content-type", "host", "transfer-encoding", "user-agent",
];

/// Checks the config JSON as the schema says, and a bit more; an error
/// names the attribute. Values of url and headers are secrets: they are
/// never quoted.
fn parse_config(raw: &[u8]) -> Result<Config, (&'static str, String)> {
    let obj = match json::parse(raw) {
        Ok(json::Value::Object(o)) => o,
        Ok(_) => return Err(("", "the config is not a JSON object".into())),
        Err(e) => return Err(("", format!("the config is not JSON: {}", e))),
    };
    let mut cfg = Config { url: String::new(), max_alerts: 0, headers: Vec::new() };
    let mut has_url = false;
    for (name, value) in obj {
        match (name.as_str(), value) {
            ("url", json::Value::String(s)) => {
                let rest = if let Some(r) = s.strip_prefix("https://") {
                    r
                } else if let Some(r) = s.strip_prefix("http://") {
                    r
                } else {
                    return Err(("url", "the scheme must be \"http\" or \"https\"".into()));
                };
                if rest.split(|c| c == '/' || c == '?' || c == '#').next().unwrap_or("").is_empty() {
                    return Err(("url", "the URL has no host".into()));
                }
                cfg.url = s;
                has_url = true;
            }
            ("url", json::Value::Null) => {}
            ("url", _) => return Err(("url", "must be a string".into())),
            ("max_alerts", json::Value::Number(n)) => {
                if n < 0.0 || n.fract() != 0.0 || n > i32::MAX as f64 {
                    return Err(("max_alerts", format!("must be a whole number from 0 up, not {}", n)));
                }
                cfg.max_alerts = n as usize;
            }
            ("max_alerts", json::Value::Null) => {}
            ("max_alerts", _) => return Err(("max_alerts", "must be a number".into())),
            ("headers", json::Value::Object(h)) => {
                for (k, v) in h {
                    let v = match v {
                        json::Value::String(v) => v,
                        _ => return Err(("headers", format!("the value of header {:?} must be a string", k))),
                    };
                    if k.is_empty() || !k.bytes().all(|c| c > b' ' && c < 0x7f && !b"()<>@,;:\\\"/[]?={}".contains(&c)) {
                        return Err(("headers", format!("{:?} is not a valid header name", k)));
                    }
                    if RESERVED.contains(&k.to_ascii_lowercase().as_str()) {
                        return Err(("headers", format!("header {:?} is set by the plugin", k)));
                    }
                    if v.contains(|c| c == '\r' || c == '\n' || c == '\0') {
                        return Err(("headers", format!("the value of header {:?} has a line break or a NUL", k)));
                    }
                    cfg.headers.push((k, v));
                }
            }
            ("headers", json::Value::Null) => {}
            ("headers", _) => return Err(("headers", "must be a map of strings".into())),
            (other, _) => return Err(("", format!("unknown attribute {:?}", other))),
        }
    }
    if !has_url {
        return Err(("url", "the attribute \"url\" is required".into()));
    }
    Ok(cfg)
}

#[no_mangle]
pub extern "C" fn vigil_configure(ptr: *const u8, len: u32) -> u64 {
    let mut config_json: &[u8] = &[];
    for field in pb::Reader::new(request(ptr, len)) {
        match field {
            Ok((1, pb::Field::Bytes(b))) => config_json = b,
            Ok(_) => {}
            Err(e) => return result(BAD_REQUEST, e.as_bytes()),
        }
    }
    let mut m = Vec::new();
    match parse_config(config_json) {
        Ok(cfg) => {
            CONFIG.with(|c| *c.borrow_mut() = Some(cfg));
            log(LOG_DEBUG, "configured");
        }
        Err((attribute, message)) => {
            // A refused config leaves the one the module had.
            pb::string(&mut m, 1, &message);
            pb::string(&mut m, 2, attribute);
        }
    }
    result(OK, &m)
}

#[no_mangle]
pub extern "C" fn vigil_notify(ptr: *const u8, len: u32) -> u64 {
    let n = match decode_notify_request(request(ptr, len)) {
        Ok(n) => n,
        Err(e) => return result(BAD_REQUEST, e.as_bytes()),
    };
    let outcome = CONFIG.with(|c| match &*c.borrow() {
        Some(cfg) => Ok(deliver(cfg, n)),
        None => Err("the plugin is not configured"),
    });
    match outcome {
        Err(e) => result(ERROR, e.as_bytes()),
        Ok(None) => result(OK, &[]),
        Ok(Some((error, retryable))) => {
            let mut m = Vec::new();
            pb::string(&mut m, 1, &error);
            pb::varint_field(&mut m, 2, retryable as u64);
            result(OK, &m)
        }
    }
}

// ---------------------------------------------------------------------
// The notification and its delivery.

#[derive(Default)]
struct Alert {
    status: String,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    starts_at: String,
    ends_at: String,
    generator_url: String,
    fingerprint: String,
}

#[derive(Default)]
struct Notification {
    version: String,
    group_key: String,
    truncated_alerts: u64,
    status: String,
    receiver: String,
    group_labels: Vec<(String, String)>,
    common_labels: Vec<(String, String)>,
    common_annotations: Vec<(String, String)>,
    external_url: String,
    alerts: Vec<Alert>,
}

fn decode_notify_request(b: &[u8]) -> Result<Notification, String> {
    let mut n = Notification::default();
    for field in pb::Reader::new(b) {
        if let (1, pb::Field::Bytes(b)) = field? {
            n = decode_notification(b)?;
        }
    }
    Ok(n)
}

fn decode_notification(b: &[u8]) -> Result<Notification, String> {
    let mut n = Notification::default();
    for field in pb::Reader::new(b) {
        match field? {
            (1, pb::Field::Bytes(b)) => n.version = pb::utf8(b)?,
            (2, pb::Field::Bytes(b)) => n.group_key = pb::utf8(b)?,
            (3, pb::Field::Varint(v)) => n.truncated_alerts = v,
            (4, pb::Field::Bytes(b)) => n.status = pb::utf8(b)?,
            (5, pb::Field::Bytes(b)) => n.receiver = pb::utf8(b)?,
            (6, pb::Field::Bytes(b)) => n.group_labels.push(pb::map_entry(b)?),
            (7, pb::Field::Bytes(b)) => n.common_labels.push(pb::map_entry(b)?),
            (8, pb::Field::Bytes(b)) => n.common_annotations.push(pb::map_entry(b)?),
            (9, pb::Field::Bytes(b)) => n.external_url = pb::utf8(b)?,
            (10, pb::Field::Bytes(b)) => n.alerts.push(decode_alert(b)?),
            _ => {}
        }
    }
    Ok(n)
}

fn decode_alert(b: &[u8]) -> Result<Alert, String> {
    let mut a = Alert::default();
    for field in pb::Reader::new(b) {
        match field? {
            (1, pb::Field::Bytes(b)) => a.status = pb::utf8(b)?,
            (2, pb::Field::Bytes(b)) => a.labels.push(pb::map_entry(b)?),
            (3, pb::Field::Bytes(b)) => a.annotations.push(pb::map_entry(b)?),
            (4, pb::Field::Bytes(b)) => a.starts_at = pb::utf8(b)?,
            (5, pb::Field::Bytes(b)) => a.ends_at = pb::utf8(b)?,
            (6, pb::Field::Bytes(b)) => a.generator_url = pb::utf8(b)?,
            (7, pb::Field::Bytes(b)) => a.fingerprint = pb::utf8(b)?,
            _ => {}
        }
    }
    Ok(a)
}

/// A JSON object of a label map, its keys sorted.
fn write_map(out: &mut String, m: &[(String, String)]) {
    let mut sorted: Vec<&(String, String)> = m.iter().collect();
    sorted.sort();
    out.push('{');
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(out, k);
        out.push(':');
        json::string(out, v);
    }
    out.push('}');
}

/// The pairs that every one of maps holds.
fn common(maps: &[&Vec<(String, String)>]) -> Vec<(String, String)> {
    match maps.split_first() {
        None => Vec::new(),
        Some((first, rest)) => first.iter().filter(|kv| rest.iter().all(|m| m.contains(kv))).cloned().collect(),
    }
}

/// Alertmanager's webhook message, version 4, keeping at most max_alerts
/// alerts when it is not 0. As Alertmanager, a message that leaves alerts
/// out has the status, common labels and common annotations of the
/// alerts it keeps.
fn message(n: &Notification, max_alerts: usize) -> String {
    let keep = if max_alerts > 0 && n.alerts.len() > max_alerts { max_alerts } else { n.alerts.len() };
    let truncated = n.truncated_alerts + (n.alerts.len() - keep) as u64;
    let alerts = &n.alerts[..keep];
    let (status, common_labels, common_annotations) = if keep == n.alerts.len() {
        (n.status.clone(), n.common_labels.clone(), n.common_annotations.clone())
    } else {
        let firing = alerts.iter().any(|a| a.status == "firing");
        (
            String::from(if firing { "firing" } else { "resolved" }),
            common(&alerts.iter().map(|a| &a.labels).collect::<Vec<_>>()),
            common(&alerts.iter().map(|a| &a.annotations).collect::<Vec<_>>()),
        )
    };
    let mut o = String::from("{\"version\":\"4\",\"groupKey\":");
    json::string(&mut o, &n.group_key);
    o.push_str(&format!(",\"truncatedAlerts\":{},\"status\":", truncated));
    json::string(&mut o, &status);
    o.push_str(",\"receiver\":");
    json::string(&mut o, &n.receiver);
    o.push_str(",\"groupLabels\":");
    write_map(&mut o, &n.group_labels);
    o.push_str(",\"commonLabels\":");
    write_map(&mut o, &common_labels);
    o.push_str(",\"commonAnnotations\":");
    write_map(&mut o, &common_annotations);
    o.push_str(",\"externalURL\":");
    json::string(&mut o, &n.external_url);
    o.push_str(",\"alerts\":[");
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"status\":");
        json::string(&mut o, &a.status);
        o.push_str(",\"labels\":");
        write_map(&mut o, &a.labels);
        o.push_str(",\"annotations\":");
        write_map(&mut o, &a.annotations);
        o.push_str(",\"startsAt\":");
        json::string(&mut o, &a.starts_at);
        o.push_str(",\"endsAt\":");
        json::string(&mut o, &a.ends_at);
        o.push_str(",\"generatorURL\":");
        json::string(&mut o, &a.generator_url);
        o.push_str(",\"fingerprint\":");
        json::string(&mut o, &a.fingerprint);
        o.push('}');
    }
    o.push_str("]}");
    o
}

/// POSTs the notification; None when delivered, else the error and
/// whether a retry can help. Errors never quote the URL, a secret.
fn deliver(cfg: &Config, n: Notification) -> Option<(String, bool)> {
    let body = message(&n, cfg.max_alerts);
    let mut req = String::from("{\"method\":\"POST\",\"url\":");
    json::string(&mut req, &cfg.url);
    req.push_str(",\"headers\":{\"Content-Type\":[\"application/json\"],\"User-Agent\":[\"Vigil\"]");
    for (k, v) in &cfg.headers {
        req.push(',');
        json::string(&mut req, k);
        req.push_str(":[");
        json::string(&mut req, v);
        req.push(']');
    }
    req.push_str("},\"body\":\"");
    base64(&mut req, body.as_bytes());
    req.push_str("\"}");

    let packed = unsafe { host::http_request(req.as_ptr(), req.len() as u32) };
    if packed == 0 {
        return Some(("the host could not answer the request".into(), true));
    }
    let ptr = (packed >> 32) as *mut u8;
    let len = (packed & 0xFFFF_FFFF) as usize;
    let answer = json::parse(unsafe { std::slice::from_raw_parts(ptr, len) });
    vigil_free(ptr);
    let answer = match answer {
        Ok(json::Value::Object(o)) => o,
        _ => return Some(("the host's answer to the request is not a JSON object".into(), true)),
    };
    let field = |name: &str| answer.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if let Some(json::Value::String(e)) = field("error") {
        // A host not in allow_hosts stays so: retrying cannot help.
        let denied = matches!(field("denied"), Some(json::Value::Bool(true)));
        return Some((format!("cannot deliver the notification: {}", e), !denied));
    }
    let status = match field("status") {
        Some(json::Value::Number(s)) => *s as u32,
        _ => return Some(("the host's answer has no status".into(), true)),
    };
    if status / 100 == 2 {
        return None;
    }
    // As Alertmanager judges an answer: 429 and 5xx may pass, the rest not.
    let retryable = status == 429 || status / 100 == 5;
    Some((format!("the receiver answered {}", status), retryable))
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends b in standard base64, padded (RFC 4648).
fn base64(out: &mut String, b: &[u8]) {
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

// ---------------------------------------------------------------------
// Protobuf's binary encoding, the part these messages use.

mod pb {
    /// A field's value: wire types 0 (varint) and 2 (length-delimited);
    /// fixed-width ones are skipped as Other.
    pub enum Field<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
        Other,
    }

    /// Iterates over the fields of a message: (number, value).
    pub struct Reader<'a> {
        b: &'a [u8],
        failed: bool,
    }

    impl<'a> Reader<'a> {
        pub fn new(b: &'a [u8]) -> Self {
            Reader { b, failed: false }
        }

        fn varint(&mut self) -> Result<u64, String> {
            let mut v = 0u64;
            for i in 0..10 {
                let c = *self.b.get(i).ok_or("truncated varint")?;
                v |= ((c & 0x7f) as u64) << (7 * i);
                if c < 0x80 {
                    self.b = &self.b[i + 1..];
                    return Ok(v);
                }
            }
            Err("varint too long".into())
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            if n > self.b.len() {
                return Err("truncated field".into());
            }
            let (head, rest) = self.b.split_at(n);
            self.b = rest;
            Ok(head)
        }

        fn field(&mut self) -> Result<(u64, Field<'a>), String> {
            let key = self.varint()?;
            let value = match key & 7 {
                0 => Field::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Field::Other
                }
                2 => {
                    let n = self.varint()? as usize;
                    Field::Bytes(self.take(n)?)
                }
                5 => {
                    self.take(4)?;
                    Field::Other
                }
                t => return Err(format!("unknown wire type {}", t)),
            };
            Ok((key >> 3, value))
        }
    }

    impl<'a> Iterator for Reader<'a> {
        type Item = Result<(u64, Field<'a>), String>;

        fn next(&mut self) -> Option<Self::Item> {
            if self.b.is_empty() || self.failed {
                return None;
            }
            let f = self.field();
            self.failed = f.is_err();
            Some(f)
        }
    }

    pub fn utf8(b: &[u8]) -> Result<String, String> {
        String::from_utf8(b.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    /// A map<string, string> entry: key 1, value 2.
    pub fn map_entry(b: &[u8]) -> Result<(String, String), String> {
        let (mut k, mut v) = (String::new(), String::new());
        for field in Reader::new(b) {
            match field? {
                (1, Field::Bytes(b)) => k = utf8(b)?,
                (2, Field::Bytes(b)) => v = utf8(b)?,
                _ => {}
            }
        }
        Ok((k, v))
    }

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A varint field; zero, proto3's default, is left out.
    pub fn varint_field(out: &mut Vec<u8>, number: u64, v: u64) {
        if v != 0 {
            varint(out, number << 3);
            varint(out, v);
        }
    }

    pub fn bytes(out: &mut Vec<u8>, number: u64, b: &[u8]) {
        varint(out, number << 3 | 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }

    /// A string field; the empty string, proto3's default, is left out.
    pub fn string(out: &mut Vec<u8>, number: u64, s: &str) {
        if !s.is_empty() {
            bytes(out, number, s.as_bytes());
        }
    }
}

// ---------------------------------------------------------------------
// JSON (RFC 8259), enough for the config and the host's answers.

mod json {
    pub enum Value {
        Null,
        Bool(bool),
        Number(f64),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    pub fn parse(b: &[u8]) -> Result<Value, String> {
        let mut p = Parser { b, i: 0 };
        let v = p.value(0)?;
        p.space();
        if p.i != b.len() {
            return Err(format!("unexpected data at offset {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl<'a> Parser<'a> {
        fn space(&mut self) {
            while self.i < self.b.len() && b" \t\r\n".contains(&self.b[self.i]) {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.space();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at offset {}", c as char, self.i))
            }
        }

        fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
            if self.b[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                Err(format!("unexpected data at offset {}", self.i))
            }
        }

        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > 64 {
                return Err("nested too deep".into());
            }
            self.space();
            match self.b.get(self.i) {
                None => Err("unexpected end".into()),
                Some(b'n') => self.literal("null", Value::Null),
                Some(b't') => self.literal("true", Value::Bool(true)),
                Some(b'f') => self.literal("false", Value::Bool(false)),
                Some(b'"') => Ok(Value::String(self.string()?)),
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.space();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.space();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Value::Array(items));
                            }
                            _ => return Err(format!("expected ',' or ']' at offset {}", self.i)),
                        }
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    self.space();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Object(fields));
                    }
                    loop {
                        self.space();
                        if self.b.get(self.i) != Some(&b'"') {
                            return Err(format!("expected a string at offset {}", self.i));
                        }
                        let k = self.string()?;
                        self.eat(b':')?;
                        fields.push((k, self.value(depth + 1)?));
                        self.space();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Value::Object(fields));
                            }
                            _ => return Err(format!("expected ',' or '}}' at offset {}", self.i)),
                        }
                    }
                }
                Some(_) => self.number(),
            }
        }

        fn number(&mut self) -> Result<Value, String> {
            let start = self.i;
            while self.i < self.b.len() && b"+-0123456789.eE".contains(&self.b[self.i]) {
                self.i += 1;
            }
            std::str::from_utf8(&self.b[start..self.i])
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .map(Value::Number)
                .ok_or_else(|| format!("bad number at offset {}", start))
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let s = self.b.get(self.i..self.i + 4).ok_or("truncated \\u escape")?;
            self.i += 4;
            u32::from_str_radix(std::str::from_utf8(s).map_err(|_| "bad \\u escape")?, 16).map_err(|_| "bad \\u escape".to_string())
        }

        fn string(&mut self) -> Result<String, String> {
            self.i += 1; // the opening quote
            let mut out: Vec<u8> = Vec::new();
            loop {
                let c = *self.b.get(self.i).ok_or("unterminated string")?;
                self.i += 1;
                match c {
                    b'"' => return String::from_utf8(out).map_err(|_| "a string is not UTF-8".to_string()),
                    b'\\' => {
                        let e = *self.b.get(self.i).ok_or("unterminated string")?;
                        self.i += 1;
                        let ch = match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let mut u = self.hex4()?;
                                if (0xD800..0xDC00).contains(&u) && self.b[self.i..].starts_with(b"\\u") {
                                    self.i += 2;
                                    let low = self.hex4()?;
                                    u = 0x10000 + ((u - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                                }
                                char::from_u32(u).unwrap_or('\u{FFFD}')
                            }
                            _ => return Err(format!("bad escape at offset {}", self.i)),
                        };
                        let mut buf = [0; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    c if c < 0x20 => return Err(format!("control character in a string at offset {}", self.i)),
                    c => out.push(c),
                }
            }
        }
    }

    /// Appends s as a JSON string.
    pub fn string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
}
