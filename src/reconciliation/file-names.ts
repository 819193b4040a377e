/**
 * Names of a day's files on Alipay's SFTP server [R] (MAPI.md §15 does not say; the sandbox
 * writes the same): `<partner>_transaction_<yyyyMMdd>.csv`, `<partner>_settlement_<yyyyMMdd>.csv`.
 */
export function reconciliationFileNames(
  partnerId: string,
  date: string,
): { transaction: string; settlement: string } {
  const day = date.replace(/-/g, '');
  return {
    transaction: `${partnerId}_transaction_${day}.csv`,
    settlement: `${partnerId}_settlement_${day}.csv`,
  };
}
