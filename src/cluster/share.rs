//! Which node serves each inbound partition: rendezvous hashing over the nodes alive now (each
//! partition goes to the node with the highest hash of (node, partition)), so every node
//! computes the same split without talking, and a node joining or leaving moves only its share.
//! The alive list is this node's view, refreshed with its report (`refresh_alive`).

use super::{Cluster, ClusterError};

/// Whether `me` is the node `p` belongs to among `alive` (`me` counts as alive).
pub fn belongs_to(alive: &[String], me: &str, p: u32) -> bool {
    let mine = score(me, p);
    alive
        .iter()
        .filter(|n| n.as_str() != me)
        .all(|n| (score(n, p), n.as_str()) < (mine, me))
}

/// FNV-1a over the node name and the partition number.
fn score(node: &str, p: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.bytes().chain([0]).chain(p.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // FNV's low bits mix poorly for short inputs: finish with a multiply-xorshift.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

impl Cluster {
    /// Reads the nodes whose report is younger than a lease into this node's view.
    pub async fn refresh_alive(&self) -> Result<(), ClusterError> {
        let now = chrono::Utc::now().timestamp_millis();
        let alive: Vec<String> = self
            .members()
            .await?
            .into_iter()
            .filter(|n| n.alive_at(now, self.settings.lease))
            .map(|n| n.node)
            .collect();
        if let Ok(mut a) = self.alive.write() {
            *a = alive;
        }
        Ok(())
    }

    /// Whether `node` is this node or alive in its current view of the cluster.
    pub fn is_alive(&self, node: &str) -> bool {
        node == self.settings.node
            || self
                .alive
                .read()
                .map(|a| a.iter().any(|n| n == node))
                .unwrap_or(true)
    }

    /// Whether partition `p` belongs to this node in its current view of the cluster.
    pub fn partition_is_mine(&self, p: u32) -> bool {
        let alive = self.alive.read().map(|a| a.clone()).unwrap_or_default();
        belongs_to(&alive, &self.settings.node, p)
    }
}

#[cfg(test)]
mod tests {
    use super::belongs_to;

    fn nodes(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn each_partition_belongs_to_exactly_one_alive_node() {
        for alive in [nodes(&["a"]), nodes(&["a", "b"]), nodes(&["a", "b", "c"])] {
            for p in 0..16 {
                let owners = alive.iter().filter(|n| belongs_to(&alive, n, p)).count();
                assert_eq!(owners, 1, "partition {p} among {alive:?}");
            }
        }
    }

    #[test]
    fn a_node_alone_or_unseen_yet_takes_everything() {
        assert!((0..16).all(|p| belongs_to(&[], "a", p)));
        assert!((0..16).all(|p| belongs_to(&nodes(&["a"]), "a", p)));
    }

    #[test]
    fn the_split_is_roughly_even_and_a_joiner_moves_only_its_share() {
        let two = nodes(&["a", "b"]);
        let three = nodes(&["a", "b", "c"]);
        let count =
            |alive: &[String], n: &str| (0..16).filter(|p| belongs_to(alive, n, *p)).count();
        for n in ["a", "b"] {
            assert!(
                (4..=12).contains(&count(&two, n)),
                "{n}: {}",
                count(&two, n)
            );
        }
        for n in ["a", "b", "c"] {
            assert!(
                (2..=9).contains(&count(&three, n)),
                "{n}: {}",
                count(&three, n)
            );
        }
        // c joining takes partitions only from their old owners, never swaps a and b.
        for p in 0..16 {
            let before = if belongs_to(&two, "a", p) { "a" } else { "b" };
            let after = ["a", "b", "c"]
                .into_iter()
                .find(|n| belongs_to(&three, n, p))
                .unwrap();
            assert!(
                after == before || after == "c",
                "partition {p}: {before} -> {after}"
            );
        }
    }
}
