//! An index of every plugin's rules, so a message is matched against all of them in one pass
//! instead of one regex per rule per plugin: the rules the `regex` crate can compile go into a
//! `RegexSet` (one automaton, linear in the text); the few it cannot (look-around,
//! back-references: fancy-regex features) are checked one by one. The captures of the rule that
//! wins are then taken with the rule's own regex, so results are those of `order::candidates`.
//! Pure: built from the manifests of one registry snapshot.

use crate::plugin::manifest::Manifest;

/// How large the combined automaton may grow before the index gives up (and dispatch falls
/// back to matching rule by rule).
const SET_SIZE_LIMIT: usize = 256 << 20;

/// The rules of one snapshot of plugins.
pub struct RuleIndex {
    /// Every rule the `regex` crate accepts, in one set.
    set: Option<regex::RegexSet>,
    /// Set pattern → (plugin, rule).
    fast: Vec<(usize, usize)>,
    /// Rules only fancy-regex can run: (plugin, rule), checked one by one.
    slow: Vec<(usize, usize)>,
}

impl RuleIndex {
    pub fn build(plugins: &[&Manifest]) -> RuleIndex {
        let mut patterns = Vec::new();
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        for (p, m) in plugins.iter().enumerate() {
            for (r, rule) in m.rules.iter().enumerate() {
                let source = rule.regex.as_str();
                if regex::Regex::new(source).is_ok() {
                    patterns.push(source);
                    fast.push((p, r));
                } else {
                    slow.push((p, r));
                }
            }
        }
        let set = regex::RegexSetBuilder::new(&patterns)
            .size_limit(SET_SIZE_LIMIT)
            .build();
        match set {
            Ok(set) => RuleIndex {
                set: Some(set),
                fast,
                slow,
            },
            Err(e) => {
                tracing::warn!("rule index not built ({e}); matching rule by rule");
                RuleIndex {
                    set: None,
                    fast: Vec::new(),
                    slow: fast.into_iter().chain(slow).collect(),
                }
            }
        }
    }

    /// The (plugin, rule) pairs that may match `text`, sorted: the set's definite matches and
    /// every rule it could not hold (those still need their own regex).
    pub fn possible(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = match &self.set {
            Some(set) => set.matches(text).iter().map(|i| self.fast[i]).collect(),
            None => Vec::new(),
        };
        out.extend_from_slice(&self.slow);
        out.sort_unstable();
        out
    }
}
