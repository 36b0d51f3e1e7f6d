// Package host finds, checks, starts and talks to plugin processes.
//
// Discovery looks for binaries named ebmflow-plugin-NAME next to the ebmflow
// executable, then in plugins/ beside the pipeline file, then in each folder
// of $EBMFLOW_PLUGIN_PATH, then on $PATH. A lock file (ebmflow.lock.hcl beside
// the pipeline) pins each plugin's SHA-256; a changed binary is refused.
//
// A started plugin is a Process: a go-plugin client (gRPC, AutoMTLS, protocol
// negotiated through VersionedPlugins) whose calls carry deadlines. A call
// that passes its deadline kills the plugin; a plugin that dies mid-call is
// reported with its name, its stage and the last lines of its stderr. The
// plugin's JSON log lines are relayed into the host's zerolog logger with the
// plugin's name, stage and level. Host.Close kills every plugin; so does the
// plugin itself when it notices its host is gone.
package host
