// Package registry is Vigil's plugin registry: the index format a
// registry serves (FORMAT.md beside this file specifies it), the code that
// publishes plugins into a folder and serves that folder, the client that
// resolves a version constraint and downloads a plugin, the ed25519
// signatures that vouch for the checksums, and the lock file,
// vigil.lock.hcl, that pins what was installed.
//
// Where to start:
//   - installing: NewInstaller and Installer.Install, which resolve,
//     download, verify and unpack a plugin and record it in the lock file;
//   - using what was installed: ReadLockFile, LockFile.Plugin, PluginPath
//     and CurrentPlatform, which say where a locked plugin's file is and
//     which SHA-256 it must have (for go-plugin's SecureConfig);
//   - publishing: GenerateKey, Publish and Handler;
//   - configuration: Registry is a `registry "HOST"` block, which package
//     hclconfig decodes (hclconfig.Registries).
//
// Nothing here starts goroutines that outlive a call, except Handler's
// HTTP server, which its caller runs.
package registry
