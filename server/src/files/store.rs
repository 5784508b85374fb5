//! Step 5: where sealed objects live, behind one trait: [`LocalDir`] (a folder under the data
//! directory, the default) or [`S3`] (any S3-compatible bucket). Keys are generated here, never
//! derived from anything a user sent.

use std::path::{Path, PathBuf};

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
    /// Stores the sealed object in the local file `staged` (written and synced by the caller) under
    /// `key`; the staged file is gone afterwards, whatever the outcome.
    async fn put_file(&self, key: &str, staged: &Path) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Bytes, StoreError>;
    /// The object as a stream of its bytes, read as they are taken (the file origin sends files so).
    async fn reader(&self, key: &str) -> Result<ObjectReader, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Whether the store is there and answers (for `/readyz`); reads and writes no object.
    async fn check(&self) -> Result<(), StoreError>;
}

/// A stored object being read.
pub type ObjectReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

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

    async fn put_file(&self, key: &str, staged: &Path) -> Result<(), StoreError> {
        let path = match self.path(key) {
            Ok(path) => path,
            Err(e) => {
                let _ = tokio::fs::remove_file(staged).await;
                return Err(e);
            }
        };
        let staged = staged.to_owned();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            // The staging folder is inside the store's folder, so this is a rename on one file system.
            std::fs::rename(&staged, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&staged);
            })
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

    async fn reader(&self, key: &str) -> Result<ObjectReader, StoreError> {
        match tokio::fs::File::open(self.path(key)?).await {
            Ok(file) => Ok(Box::pin(file)),
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

    async fn check(&self) -> Result<(), StoreError> {
        let metadata = tokio::fs::metadata(&self.root).await?;
        if metadata.is_dir() && !metadata.permissions().readonly() {
            Ok(())
        } else {
            Err(StoreError::Io(std::io::Error::other("the files folder is not a writable folder")))
        }
    }
}

/// Where an [`S3`] store is, and who Moth is there.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// `https://s3.eu-central-1.amazonaws.com`, or any S3-compatible server.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `bucket` as the first part of the path rather than of the host name (most S3-compatible stores).
    pub path_style: bool,
}

/// Objects in an S3-compatible bucket (`aws-sdk-s3`). Checksums are sent only where the operation
/// requires one, which stores other than AWS's accept.
pub struct S3 {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3 {
    pub fn new(settings: &S3Settings) -> Self {
        Self { client: s3_client(settings), bucket: settings.bucket.clone() }
    }

    fn checked(key: &str) -> Result<&str, StoreError> {
        if well_formed(key) {
            Ok(key)
        } else {
            Err(StoreError::Missing(key.to_owned()))
        }
    }

    /// The body of the object `key`, not yet read.
    async fn object(&self, key: &str) -> Result<aws_sdk_s3::primitives::ByteStream, StoreError> {
        let object = self.client.get_object().bucket(&self.bucket).key(Self::checked(key)?).send().await;
        match object {
            Ok(object) => Ok(object.body),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
            {
                Err(StoreError::Missing(key.to_owned()))
            }
            Err(e) => Err(s3_error(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }
}

/// A client for the S3-compatible server `settings` names (also used by backups).
pub fn s3_client(settings: &S3Settings) -> aws_sdk_s3::Client {
    s3_client_over(settings, aws_smithy_http_client::Builder::new().tls_provider(rustls_on_ring()).build_https())
}

/// The same, resolving host names with `resolver` (the team export's guard against private addresses).
pub fn s3_client_resolving<R>(settings: &S3Settings, resolver: R) -> aws_sdk_s3::Client
where
    R: aws_smithy_runtime_api::client::dns::ResolveDns + Clone + 'static,
{
    let http = aws_smithy_http_client::Builder::new().tls_provider(rustls_on_ring()).build_with_resolver(resolver);
    s3_client_over(settings, http)
}

/// The TLS of every S3 connection: rustls over ring, the one TLS and crypto stack in the tree.
fn rustls_on_ring() -> aws_smithy_http_client::tls::Provider {
    use aws_smithy_http_client::tls;
    tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)
}

/// A client for the server `settings` names, connecting through `http`.
fn s3_client_over(
    settings: &S3Settings,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
    let credentials =
        Credentials::new(&settings.access_key_id, &settings.secret_access_key, None, None, "moth configuration");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(&settings.endpoint)
        .region(Region::new(settings.region.clone()))
        .credentials_provider(credentials)
        .force_path_style(settings.path_style)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn s3_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(format!("S3: {e}")))
}

#[async_trait::async_trait]
impl ObjectStore for S3 {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::checked(key)?)
            .content_type("application/octet-stream")
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn put_file(&self, key: &str, staged: &Path) -> Result<(), StoreError> {
        let sent = async {
            let body = aws_sdk_s3::primitives::ByteStream::from_path(staged).await.map_err(s3_error)?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(Self::checked(key)?)
                .content_type("application/octet-stream")
                .body(body)
                .send()
                .await
                .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
            Ok(())
        }
        .await;
        let _ = tokio::fs::remove_file(staged).await;
        sent
    }

    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let body = self.object(key).await?.collect().await.map_err(s3_error)?;
        Ok(body.into_bytes())
    }

    async fn reader(&self, key: &str) -> Result<ObjectReader, StoreError> {
        Ok(Box::pin(self.object(key).await?.into_async_read()))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(Self::checked(key)?)
            .send()
            .await
            .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }
}
