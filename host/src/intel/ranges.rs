//! Address sets as sorted, merged ranges: a lookup is a binary search however long the
//! list.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// A set of addresses as sorted, non-overlapping inclusive ranges.
#[derive(Default, Debug, Clone)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

fn merge<T: Ord + Copy + num_like::Successor>(ranges: &mut Vec<(T, T)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if lo <= last.1.successor() => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    *ranges = merged;
}

mod num_like {
    pub trait Successor {
        fn successor(self) -> Self;
    }
    impl Successor for u32 {
        fn successor(self) -> Self {
            self.saturating_add(1)
        }
    }
    impl Successor for u128 {
        fn successor(self) -> Self {
            self.saturating_add(1)
        }
    }
}

fn contains<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    let i = ranges.partition_point(|&(lo, _)| lo <= x);
    i > 0 && ranges[i - 1].1 >= x
}

impl IpSet {
    pub fn from_networks(networks: impl IntoIterator<Item = IpNetwork>) -> Self {
        let mut set = IpSet::default();
        for network in networks {
            match network {
                IpNetwork::V4(n) => set
                    .v4
                    .push((u32::from(n.network()), u32::from(n.broadcast()))),
                IpNetwork::V6(n) => {
                    let lo = u128::from(n.network());
                    let host_bits = 128 - u32::from(n.prefix());
                    let hi = if host_bits == 128 {
                        u128::MAX
                    } else {
                        lo | ((1u128 << host_bits) - 1)
                    };
                    set.v6.push((lo, hi));
                }
            }
        }
        merge(&mut set.v4);
        merge(&mut set.v6);
        set
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => contains(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => contains(&self.v4, u32::from(v4)),
                None => contains(&self.v6, u128::from(v6)),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Number of merged ranges.
    pub fn ranges(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}
