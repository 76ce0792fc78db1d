/**
 * weft's PKI: keys, certificates, CSRs, chains and PEM, with step-compatible
 * profiles. Pure functions plus WebCrypto; no file or network I/O (callers read and
 * write files). Every other part of weft makes and checks certificates through here.
 *
 * CONTRACT (being implemented): the signatures below are what other areas code
 * against. Implementations live in one file per idea beside this one.
 */
export {};
