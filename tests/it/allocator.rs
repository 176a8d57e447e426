//! The process allocator (src/alloc.rs): mimalloc's option is in effect before the first
//! allocation, in this test binary and in `isobot serve`. Transparent huge pages being off for
//! the process is the trace of that: mimalloc turns them off (`PR_SET_THP_DISABLE`) while it
//! initialises, so it read the option before anything was allocated.

use crate::served::Served;

/// `THP_enabled` of a process's `/proc/<pid>/status` (`"0"` when disabled for it).
fn thp_enabled(pid: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .unwrap_or_else(|| panic!("no THP_enabled line in /proc/{pid}/status:\n{status}"))
        .trim()
        .to_string()
}

#[test]
fn this_binary_runs_mimalloc_with_the_options_of_the_isobot_binary() {
    assert!(
        isobot::alloc::configured(),
        "mimalloc's allow_thp option was not set before main"
    );
    assert_eq!(thp_enabled("self"), "0");
}

#[test]
fn isobot_serve_runs_with_transparent_huge_pages_off() {
    let served = Served::start(&[], "");
    let pid = served.child.as_ref().unwrap().id().to_string();
    assert_eq!(thp_enabled(&pid), "0");
}
