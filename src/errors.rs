//! How errors are shown: with their causes on one line. reqwest and hyper hide the useful part
//! (connection refused, DNS failure, certificate) in the source chain.

/// `e` and every cause after it, joined with `: `.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
