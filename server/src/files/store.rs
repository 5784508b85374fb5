//! Step 5: where sealed objects live, behind one trait. [`LocalDir`] (a folder under the data
//! directory) is the default. Keys are generated here, never derived from anything a user sent.

use std::path::PathBuf;

use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object store: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: no object {0}")]
    Missing(String),
}

#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Bytes, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// A fresh storage key: 128 random bits, fanned out over 256 folders by its first two characters.
pub fn new_key() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/{id}", &id[..2])
}

/// Whether `key` is one [`new_key`] could have made (so that no stored key can name another path).
fn well_formed(key: &str) -> bool {
    let Some((fan, id)) = key.split_once('/') else { return false };
    id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()) && fan == &id[..2]
}

/// Objects as files in a folder, written whole to a temporary name, synced, then renamed.
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if well_formed(key) {
            Ok(self.root.join(key))
        } else {
            Err(StoreError::Missing(key.to_owned()))
        }
    }
}

#[async_trait::async_trait]
impl ObjectStore for LocalDir {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            let temporary = path.with_extension("partial");
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::Missing(key.to_owned())),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
