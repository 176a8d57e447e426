//! Dispatch order: which plugins may handle a message or a platform event, and in what order
//! (SDK.md §8). Pure: the manifests and the message in, the candidates out.
use super::index::RuleIndex;
use crate::event::Message;
use crate::plugin::manifest::Manifest;

/// A plugin whose rule (or `event` header) matched.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Position of the plugin in the slice given to [`candidates`].
    pub index: usize,
    /// Index into `manifest.rules` of the rule that matched (`usize::MAX` for an event).
    pub rule: usize,
    /// Capture groups 1.. of that rule; a group that did not take part is `""`.
    pub params: Vec<String>,
    pub manifest: &'a Manifest,
}

/// Plugins that may handle `msg`, in the order they must be offered (SDK.md §8): enabled,
/// admitted by their selectors, `admin` and `at` flags, with a rule matching the whole text (the
/// first such rule is used); by priority descending, then id ascending, then input order.
pub fn candidates<'a>(plugins: &[&'a Manifest], msg: &Message) -> Vec<Candidate<'a>> {
    candidates_where(plugins, msg, |i| !plugins[i].disable)
}

/// `candidates` with the enabled test given: `enabled(index)` decides instead of the
/// `disable` header (the operator's override wins over the header).
pub fn candidates_where<'a>(
    plugins: &[&'a Manifest],
    msg: &Message,
    enabled: impl Fn(usize) -> bool,
) -> Vec<Candidate<'a>> {
    ordered(plugins, msg, enabled, |m| {
        if m.at && !msg.chat.is_empty() && !msg.mentions_me {
            return None;
        }
        first_match(m, &msg.text)
    })
}

/// `candidates_where` through the snapshot's rule index: the same candidates, found in one pass
/// over the text whatever the number of plugins.
pub fn candidates_indexed<'a>(
    index: &RuleIndex,
    plugins: &[&'a Manifest],
    msg: &Message,
    enabled: impl Fn(usize) -> bool,
) -> Vec<Candidate<'a>> {
    let possible = index.possible(&msg.text);
    let mut out = Vec::new();
    let mut pairs = possible.iter().peekable();
    while let Some(&(plugin, first)) = pairs.next() {
        // The plugin's possible rules, in rule order; the first that matches wins.
        let mut rules = vec![first];
        while let Some(&&(p, r)) = pairs.peek() {
            if p != plugin {
                break;
            }
            rules.push(r);
            pairs.next();
        }
        let m = plugins[plugin];
        if !enabled(plugin) || (m.admin && !msg.admin) || !admits(m, msg) {
            continue;
        }
        if m.at && !msg.chat.is_empty() && !msg.mentions_me {
            continue;
        }
        let hit = rules
            .into_iter()
            .find_map(|r| captures(&m.rules[r], &msg.text).map(|params| (r, params)));
        if let Some((rule, params)) = hit {
            out.push(Candidate {
                index: plugin,
                rule,
                params,
                manifest: m,
            });
        }
    }
    sort(&mut out);
    out
}

/// Plugins with an `event` header naming `kind` (docs/adapters.md: event names), admitted by
/// their selectors and `admin` flag, in the same order as for messages.
pub fn event_candidates<'a>(
    plugins: &[&'a Manifest],
    msg: &Message,
    kind: &str,
) -> Vec<Candidate<'a>> {
    event_candidates_where(plugins, msg, kind, |i| !plugins[i].disable)
}

/// `event_candidates` with the enabled test given (as `candidates_where`).
pub fn event_candidates_where<'a>(
    plugins: &[&'a Manifest],
    msg: &Message,
    kind: &str,
    enabled: impl Fn(usize) -> bool,
) -> Vec<Candidate<'a>> {
    ordered(plugins, msg, enabled, |m| {
        m.events
            .iter()
            .any(|e| event_matches(e, kind))
            .then(|| (usize::MAX, Vec::new()))
    })
}

/// The enabled, admitted plugins `matcher` accepts, in dispatch order.
fn ordered<'a>(
    plugins: &[&'a Manifest],
    msg: &Message,
    enabled: impl Fn(usize) -> bool,
    matcher: impl Fn(&Manifest) -> Option<(usize, Vec<String>)>,
) -> Vec<Candidate<'a>> {
    let mut out: Vec<Candidate<'a>> = plugins
        .iter()
        .enumerate()
        .filter(|(i, m)| enabled(*i) && (!m.admin || msg.admin) && admits(m, msg))
        .filter_map(|(index, &manifest)| {
            let (rule, params) = matcher(manifest)?;
            Some(Candidate {
                index,
                rule,
                params,
                manifest,
            })
        })
        .collect();
    sort(&mut out);
    out
}

/// Priority descending, then id ascending; a stable sort, so equal ones keep input order and
/// the result is deterministic.
fn sort(out: &mut [Candidate<'_>]) {
    out.sort_by(|a, b| {
        b.manifest
            .priority
            .total_cmp(&a.manifest.priority)
            .then_with(|| a.manifest.id.cmp(&b.manifest.id))
    });
}

/// Whether an `event` header names the event `kind`: ASCII case, `-` and `_` do not matter (the
/// names in the wild mix them: `qq-notice-group-recall` next to `qq-notice-group_increase`), the
/// IM may be written as its short alias (`tg-…`, `wx-…`), and a trailing `*` matches any rest
/// (`qq-notice-*`, `*`).
pub fn event_matches(header: &str, kind: &str) -> bool {
    let header = canonical_event(header);
    let kind = canonical_event(kind);
    match header.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => header == kind,
    }
}

fn canonical_event(name: &str) -> String {
    let lower: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    for (short, long) in [("tg-", "telegram-"), ("wx-", "weixin-")] {
        if let Some(rest) = lower.strip_prefix(short) {
            return format!("{long}{rest}");
        }
    }
    lower
}

fn admits(m: &Manifest, msg: &Message) -> bool {
    let s = &m.selectors;
    // A private chat has no group: a group allow list never admits it, a deny list never blocks it.
    let group_ok = if msg.chat.is_empty() {
        s.groupid.allow.is_empty()
    } else {
        s.groupid.admits(&msg.chat)
    };
    group_ok && s.imtype.admits(&msg.im) && s.userid.admits(&msg.user)
}

/// The first rule matching `text`, with its captures. A runtime regex error (backtrack limit)
/// counts as no match, so one pathological rule cannot block the message.
fn first_match(m: &Manifest, text: &str) -> Option<(usize, Vec<String>)> {
    m.rules
        .iter()
        .enumerate()
        .find_map(|(i, rule)| captures(rule, text).map(|params| (i, params)))
}

/// The captures 1.. of `rule` on `text` (a group that did not take part is `""`), if it
/// matches; a runtime regex error is no match.
fn captures(rule: &crate::plugin::manifest::Rule, text: &str) -> Option<Vec<String>> {
    let caps = rule.regex.captures(text).ok().flatten()?;
    Some(
        (1..caps.len())
            .map(|g| {
                caps.get(g)
                    .map_or_else(String::new, |c| c.as_str().to_string())
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::manifest::parse;

    /// A plugin `name.js` by `author` with the given extra header lines.
    fn plugin(name: &str, headers: &str) -> Manifest {
        let src = format!("//[author: a]\n{headers}");
        parse(&format!("{name}.js"), &src).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn msg(im: &str, chat: &str, user: &str, text: &str, admin: bool) -> Message {
        Message {
            im: im.into(),
            chat: chat.into(),
            user: user.into(),
            text: text.into(),
            admin,
            ..Message::default()
        }
    }

    fn ids(plugins: &[Manifest], m: &Message) -> Vec<String> {
        let refs: Vec<&Manifest> = plugins.iter().collect();
        candidates(&refs, m)
            .iter()
            .map(|c| c.manifest.id.clone())
            .collect()
    }

    #[test]
    fn the_index_finds_what_matching_rule_by_rule_finds() {
        let plugins = [
            plugin("w", "//[rule: 天气 ?]\n//[rule: raw (\\S+)天气]"),
            plugin("two", "//[rule: raw (a)(x)?(b)]\n//[rule: raw (a)b]"),
            plugin("first", "//[rule: raw 天气 (.)(.+)]\n//[priority: 3]"),
            plugin("look", "//[rule: raw (?=ab)(a)b]\n//[rule: raw (\\w)\\1]"),
            plugin("slow", "//[rule: raw ((?=a)a+)+b]\n//[rule: raw (a+)+]"),
            plugin("any", "//[rule: raw .*]\n//[priority: -1]"),
            plugin("admin", "//[rule: hi]\n//[admin: true]"),
            plugin("group", "//[rule: hi]\n//[groupid: g1]"),
            plugin("off", "//[rule: hi]\n//[disable: true]"),
        ];
        let refs: Vec<&Manifest> = plugins.iter().collect();
        let index = RuleIndex::build(&refs);
        let texts = [
            "天气 北京",
            "北京天气",
            "ab",
            "axb",
            "aa",
            "hi",
            "",
            "x ab",
            &"a".repeat(40),
        ];
        for text in texts {
            for (chat, admin) in [("", false), ("g1", true)] {
                let m = msg("qq", chat, "u", text, admin);
                let enabled = |i: usize| !refs[i].disable;
                let want: Vec<(usize, usize, Vec<String>)> = candidates_where(&refs, &m, enabled)
                    .into_iter()
                    .map(|c| (c.index, c.rule, c.params))
                    .collect();
                let got: Vec<(usize, usize, Vec<String>)> =
                    candidates_indexed(&index, &refs, &m, enabled)
                        .into_iter()
                        .map(|c| (c.index, c.rule, c.params))
                        .collect();
                assert_eq!(got, want, "{text:?} chat {chat:?}");
            }
        }
    }

    #[test]
    fn ordering() {
        let plugins = [
            plugin("low", "//[rule: hi]\n//[priority: -3]"),
            plugin("b", "//[rule: hi]\n//[priority: 5]"),
            plugin("none", "//[rule: hi]"),
            plugin("a", "//[rule: hi]\n//[priority: 5]"),
            plugin("huge", "//[rule: hi]\n//[priority: 99999999999999999999]"),
            plugin("half", "//[rule: hi]\n//[priority: 5.5]"),
            plugin("other", "//[rule: bye]\n//[priority: 100]"),
        ];
        let m = msg("qq", "g", "u", "hi", false);
        assert_eq!(
            ids(&plugins, &m),
            [
                "a:huge.js",
                "a:half.js",
                "a:a.js",
                "a:b.js",
                "a:none.js",
                "a:low.js"
            ]
        );
        // Same id twice (e.g. a reload in flight): input order, via `index`.
        let twins = [plugin("x", "//[rule: hi]"), plugin("x", "//[rule: h.]")];
        let refs: Vec<&Manifest> = twins.iter().collect();
        let got: Vec<usize> = candidates(&refs, &m).iter().map(|c| c.index).collect();
        assert_eq!(got, [0, 1]);
    }

    #[test]
    fn admission() {
        let group = msg("qq", "g1", "u1", "go", false);
        let private = msg("qq", "", "u1", "go", false);
        let admin_private = msg("qq", "", "u1", "go", true);
        let tg = msg("telegram", "g1", "u2", "go", false);
        // (headers, [group, private, admin_private, tg] admitted?)
        let cases: &[(&str, [bool; 4])] = &[
            ("", [true, true, true, true]),
            ("//[disable: true]", [false, false, false, false]),
            ("//[admin: true]", [false, false, true, false]),
            ("//[imtype: qq]", [true, true, true, false]),
            ("//[imtype-: qq]", [false, false, false, true]),
            ("//[platform: tg]", [false, false, false, true]),
            ("//[platform: all]", [true, true, true, true]),
            ("//[userid: u2]", [false, false, false, true]),
            ("//[userid-: u2]", [true, true, true, false]),
            ("//[groupid: g1]", [true, false, false, true]),
            ("//[groupid-: g1]", [false, true, true, false]),
            ("//[groupid: g2]", [false, false, false, false]),
            (
                "//[userid+: u1]\n//[userid-: u1]",
                [true, true, true, false],
            ),
            (
                "//[imtype: qq]\n//[imtype-: qq,telegram]",
                [true, true, true, false],
            ),
        ];
        for (headers, want) in cases {
            let plugins = [plugin("p", &format!("//[rule: go]\n{headers}"))];
            let got = [&group, &private, &admin_private, &tg].map(|m| !ids(&plugins, m).is_empty());
            assert_eq!(&got, want, "{headers:?}");
        }
    }

    #[test]
    fn rules_and_params() {
        let plugins = [
            plugin("w", "//[rule: 天气 ?]\n//[rule: raw (\\S+)天气]"),
            plugin("two", "//[rule: raw (a)(x)?(b)]\n//[rule: raw (a)b]"),
            plugin("first", "//[rule: raw 天气 (.)(.+)]"),
        ];
        let run = |text: &str| -> Vec<(String, usize, Vec<String>)> {
            let refs: Vec<&Manifest> = plugins.iter().collect();
            let m = msg("qq", "", "u", text, false);
            let c = candidates(&refs, &m);
            c.into_iter()
                .map(|c| (c.manifest.id.clone(), c.rule, c.params))
                .collect()
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            run("天气 北京"),
            [
                ("a:first.js".into(), 0, s(&["北", "京"])),
                ("a:w.js".into(), 0, s(&["北京"]))
            ]
        );
        assert_eq!(run("北京天气"), [("a:w.js".into(), 1, s(&["北京"]))]);
        // A group that did not take part is "", so params keep their positions.
        assert_eq!(run("ab"), [("a:two.js".into(), 0, s(&["a", "", "b"]))]);
        assert!(run("天气").is_empty());
        assert!(run("x ab").is_empty());
    }

    #[test]
    fn runtime_regex_error_is_no_match() {
        // Catastrophic backtracking hits fancy-regex's backtrack limit: an error, not a panic.
        let plugins = [
            plugin("slow", "//[rule: raw ((?=a)a+)+b]\n//[rule: raw (a+)+]"),
            plugin("ok", "//[rule: raw .*]"),
        ];
        let text = "a".repeat(40);
        assert!(
            plugins[0].rules[0].regex.captures(&text).is_err(),
            "limit not hit"
        );
        let refs: Vec<&Manifest> = plugins.iter().collect();
        let m = msg("qq", "", "u", &text, false);
        let got: Vec<(&str, usize)> = candidates(&refs, &m)
            .iter()
            .map(|c| (c.manifest.id.as_str(), c.rule))
            .collect();
        assert_eq!(got, [("a:ok.js", 0), ("a:slow.js", 1)]);
    }

    #[test]
    fn the_enabled_test_overrides_the_disable_header() {
        let plugins = [
            plugin("on", "//[rule: go]"),
            plugin("off", "//[rule: go]\n//[disable: true]"),
        ];
        let refs: Vec<&Manifest> = plugins.iter().collect();
        let m = msg("qq", "", "u", "go", false);
        // (override per plugin: None = the header decides, want ids)
        let cases: &[([Option<bool>; 2], &[&str])] = &[
            ([None, None], &["a:on.js"]),
            ([Some(false), None], &[]),
            ([None, Some(true)], &["a:off.js", "a:on.js"]),
            ([Some(false), Some(true)], &["a:off.js"]),
        ];
        for (overrides, want) in cases {
            let got: Vec<String> =
                candidates_where(&refs, &m, |i| overrides[i].unwrap_or(!refs[i].disable))
                    .iter()
                    .map(|c| c.manifest.id.clone())
                    .collect();
            assert_eq!(got, *want, "{overrides:?}");
        }
    }

    #[test]
    fn empty_inputs() {
        assert!(candidates(&[], &Message::default()).is_empty());
        let plugins = [plugin("norules", "//[title: t]")];
        assert!(ids(&plugins, &msg("qq", "", "u", "", false)).is_empty());
    }

    #[test]
    fn at_header_requires_a_mention_in_groups() {
        let plugins = [
            plugin("at", "//[rule: go]\n//[at: true]"),
            plugin("any", "//[rule: go]"),
        ];
        let mention = |chat: &str, me: bool| Message {
            mentions_me: me,
            ..msg("qq", chat, "u", "go", false)
        };
        // (chat, mentions the bot?, admitted plugins)
        let cases: &[(&str, bool, &[&str])] = &[
            ("g", true, &["a:any.js", "a:at.js"]),
            ("g", false, &["a:any.js"]),
            // A private chat always addresses the bot.
            ("", false, &["a:any.js", "a:at.js"]),
            ("", true, &["a:any.js", "a:at.js"]),
        ];
        for (chat, me, want) in cases {
            assert_eq!(ids(&plugins, &mention(chat, *me)), *want, "{chat:?} {me}");
        }
    }

    #[test]
    fn event_names() {
        // (header, event kind, matches?)
        let cases = [
            ("qq-notice-group_increase", "qq-notice-group_increase", true),
            ("qq-notice-group-recall", "qq-notice-group_recall", true),
            ("QQ-Notice-Group_Recall", "qq-notice-group_recall", true),
            ("qq-request-friend-single", "qq-request-friend-single", true),
            ("qq-request-group-add", "qq-request-group-invite", false),
            ("qq-notice-*", "qq-notice-poke", true),
            ("qq-notice-*", "qq-request-group-add", false),
            ("*", "telegram-callback_query", true),
            ("tg-callback_query", "telegram-callback_query", true),
            ("telegram-edited-message", "telegram-edited_message", true),
            ("wx-notice-x", "weixin-notice-x", true),
            (
                "qq-notice-group_increase",
                "qq-notice-group_increase_x",
                false,
            ),
            ("", "qq-notice-poke", false),
        ];
        for (header, kind, want) in cases {
            assert_eq!(event_matches(header, kind), want, "{header:?} vs {kind:?}");
        }
    }

    #[test]
    fn event_dispatch_order_and_admission() {
        let plugins = [
            plugin(
                "welcome",
                "//[event: qq-notice-group_increase]\n//[priority: 2]",
            ),
            plugin("log", "//[event: qq-notice-*]"),
            plugin("rule_only", "//[rule: .*]"),
            plugin(
                "adminonly",
                "//[event: qq-notice-group_increase]\n//[admin: true]",
            ),
            plugin("g2", "//[event: qq-notice-group_increase]\n//[groupid: g2]"),
            plugin(
                "off",
                "//[event: qq-notice-group_increase]\n//[disable: true]",
            ),
        ];
        let refs: Vec<&Manifest> = plugins.iter().collect();
        let m = msg("qq", "g1", "u", "", false);
        let got: Vec<(&str, usize)> = event_candidates(&refs, &m, "qq-notice-group_increase")
            .iter()
            .map(|c| (c.manifest.id.as_str(), c.rule))
            .collect();
        assert_eq!(
            got,
            [("a:welcome.js", usize::MAX), ("a:log.js", usize::MAX)]
        );
        let admin = msg("qq", "g2", "u", "", true);
        let got: Vec<String> = event_candidates(&refs, &admin, "qq-notice-group_increase")
            .iter()
            .map(|c| c.manifest.id.clone())
            .collect();
        assert_eq!(
            got,
            ["a:welcome.js", "a:adminonly.js", "a:g2.js", "a:log.js"]
        );
        assert!(event_candidates(&refs, &m, "qq-request-friend-single").is_empty());
        // Rules never see events, events never see rules.
        assert_eq!(
            ids(&plugins, &msg("qq", "g1", "u", "hi", false)),
            ["a:rule_only.js"]
        );
    }
}
