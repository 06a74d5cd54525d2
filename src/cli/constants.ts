/** seconds between status lines when no flag, variable or config file says otherwise */
export const DEFAULT_STATUS_INTERVAL_S = 30

/** The example config file `peergate init` writes into the data dir */
export const CONFIG_FILE_NAME = 'config.json'
