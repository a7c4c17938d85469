/** The files every backup folder must hold besides its dump (runbook 3.1), as the tests of both engines expect them. */
export const backupFiles = (dumpFile: string): string[] =>
  [
    dumpFile,
    'auth-users.json',
    'functions/public.sorties_produit_block_update_delete.sql',
    'functions/public.validate_sortie.sql',
    'tables/public.receptions.csv',
    'tables/public.sorties_produit.csv',
    'tables/public.stocks_journaliers.csv',
  ].sort();
