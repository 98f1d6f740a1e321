//! `-coverpkg` of `go build -cover`: a binary whose main package `-coverpkg` leaves out
//! writes no coverage at all, not even for the packages it names. cmd/go means to register
//! such a main package anyway (load/pkg.go `SelectCoverPackages`: "make sure that we at least
//! process it for registration hooks"), but that branch sits after the `continue` that skips
//! unmatched packages, so it never runs (Go 1.20 to 1.26): the exit hook that writes
//! `GOCOVERDIR` is never installed.

/// The `-coverpkg` list for building `mains` with coverage of `coverpkg`: the list itself
/// plus every main package not in it (empty stays empty: go then counts the main module,
/// mains included).
pub fn with_mains(coverpkg: &[String], mains: &[String]) -> Vec<String> {
    let mut list = coverpkg.to_vec();
    if list.is_empty() {
        return list;
    }
    for main in mains {
        if !list.contains(main) {
            list.push(main.clone());
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_main_package_joins_a_coverpkg_list() {
        let mains = ["m/cmd/a".to_string(), "m/cmd/b".to_string()];
        assert_eq!(
            with_mains(&["./lib".into(), "m/cmd/a".into()], &mains),
            ["./lib", "m/cmd/a", "m/cmd/b"]
        );
        assert!(
            with_mains(&[], &mains).is_empty(),
            "go's default counts mains"
        );
    }
}
