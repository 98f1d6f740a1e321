//! An action's input root as REAPI wants it: a Merkle tree of `Directory` messages, each
//! listing its files and subdirectories sorted by name, each named by the SHA-256 of its
//! encoding; plus every blob (file contents and directories) the server may lack.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bazel_remote_apis::build::bazel::remote::execution::v2::{
    Digest, Directory, DirectoryNode, FileNode,
};
use sha2::{Digest as _, Sha256};

use super::cas::Blob;
use super::{hex, message_blob};

/// One file of an input root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Its path in the root, `/`-separated, relative.
    pub path: String,
    /// Where its content is.
    pub source: PathBuf,
    /// Whether it is executable.
    pub executable: bool,
}

/// A built input root.
#[derive(Debug)]
pub struct InputRoot {
    /// The root directory's digest (the Action's `input_root_digest`).
    pub digest: Digest,
    /// Every blob of the tree, files and directories, each once.
    pub blobs: Vec<(Digest, Blob)>,
}

enum Node {
    File(Digest, bool),
    Dir(BTreeMap<String, Node>),
}

/// The SHA-256 digest of a file's content, read in a stream.
pub fn file_digest(path: &std::path::Path) -> std::io::Result<Digest> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok(Digest {
        hash: hex(&hasher.finalize()),
        size_bytes: size as i64,
    })
}

/// The input root holding `files`; fails on a file it cannot read or two files at one path
/// (or a file where a directory must be).
pub fn input_root(files: &[InputFile]) -> Result<InputRoot, String> {
    let mut root = BTreeMap::new();
    let mut blobs = Vec::new();
    for file in files {
        let digest = file_digest(&file.source)
            .map_err(|e| format!("cannot read {}: {e}", file.source.display()))?;
        blobs.push((digest.clone(), Blob::File(file.source.clone())));
        let mut parts: Vec<&str> = file.path.split('/').filter(|p| !p.is_empty()).collect();
        let name = parts
            .pop()
            .ok_or_else(|| "an input with an empty path".to_string())?;
        let mut dir = &mut root;
        for part in parts {
            let node = dir
                .entry(part.to_string())
                .or_insert_with(|| Node::Dir(BTreeMap::new()));
            dir = match node {
                Node::Dir(children) => children,
                Node::File(..) => return Err(format!("{} is both a file and a directory", part)),
            };
        }
        if dir
            .insert(name.to_string(), Node::File(digest, file.executable))
            .is_some()
        {
            return Err(format!("two inputs at {}", file.path));
        }
    }
    let digest = encode(&root, &mut blobs);
    Ok(InputRoot { digest, blobs })
}

/// Encodes one directory (children first), adding its blob; returns its digest.
fn encode(children: &BTreeMap<String, Node>, blobs: &mut Vec<(Digest, Blob)>) -> Digest {
    let mut directory = Directory::default();
    for (name, node) in children {
        match node {
            Node::File(digest, executable) => directory.files.push(FileNode {
                name: name.clone(),
                digest: Some(digest.clone()),
                is_executable: *executable,
                node_properties: None,
            }),
            Node::Dir(grandchildren) => directory.directories.push(DirectoryNode {
                name: name.clone(),
                digest: Some(encode(grandchildren, blobs)),
            }),
        }
    }
    let (digest, bytes) = message_blob(&directory);
    blobs.push((digest.clone(), Blob::Bytes(bytes)));
    digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn blob_bytes(root: &InputRoot, digest: &Digest) -> Vec<u8> {
        match &root.blobs.iter().find(|(d, _)| d == digest).unwrap().1 {
            Blob::Bytes(b) => b.clone(),
            Blob::File(p) => std::fs::read(p).unwrap(),
        }
    }

    #[test]
    fn nests_directories_sorted_with_executable_bits() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            path
        };
        let files = vec![
            InputFile {
                path: "pkg/api/api.test".into(),
                source: write("bin", "binary"),
                executable: true,
            },
            InputFile {
                path: "pkg/api/testdata/b.txt".into(),
                source: write("b", "bee"),
                executable: false,
            },
            InputFile {
                path: "pkg/api/testdata/a.txt".into(),
                source: write("a", "ay"),
                executable: false,
            },
        ];
        let root = input_root(&files).unwrap();
        let top = Directory::decode(&*blob_bytes(&root, &root.digest)).unwrap();
        assert_eq!(top.directories[0].name, "pkg");
        let pkg = top.directories[0].digest.clone().unwrap();
        let pkg = Directory::decode(&*blob_bytes(&root, &pkg)).unwrap();
        let api = Directory::decode(&*blob_bytes(
            &root,
            pkg.directories[0].digest.as_ref().unwrap(),
        ))
        .unwrap();
        assert_eq!(api.files.len(), 1);
        assert_eq!(api.files[0].name, "api.test");
        assert!(api.files[0].is_executable);
        assert_eq!(api.files[0].digest.as_ref().unwrap().size_bytes, 6);
        let testdata = api.directories[0].digest.as_ref().unwrap();
        let testdata = Directory::decode(&*blob_bytes(&root, testdata)).unwrap();
        let names: Vec<&str> = testdata.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "b.txt"], "sorted by name");
        assert!(!testdata.files[0].is_executable);
        // The same files in another order make the same root.
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(input_root(&reversed).unwrap().digest, root.digest);
    }

    #[test]
    fn refuses_two_files_at_one_path_and_a_file_under_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("f");
        std::fs::write(&source, "x").unwrap();
        let file = |path: &str| InputFile {
            path: path.into(),
            source: source.clone(),
            executable: false,
        };
        let twice = input_root(&[file("a/b"), file("a/b")]).unwrap_err();
        assert_eq!(twice, "two inputs at a/b");
        let under = input_root(&[file("a"), file("a/b")]).unwrap_err();
        assert_eq!(under, "a is both a file and a directory");
        let missing = InputFile {
            path: "x".into(),
            source: dir.path().join("missing"),
            executable: false,
        };
        assert!(
            input_root(&[missing])
                .unwrap_err()
                .starts_with("cannot read ")
        );
    }
}
