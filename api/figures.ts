/**
 * A number as the API's words write it, its whole part in groups of three (`1,000,000`, `-2,500.5`). Not
 * `toLocaleString`: that loads ICU's locale data, about 40 ms the first time a function instance calls it (at init,
 * in every HTTP function, until written this way: docs/performance.md, "Cold start").
 */
export const figure = (value: number | bigint): string => {
  const [whole = '', fraction] = String(value).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
};
