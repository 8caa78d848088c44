// Package scu is the requester's side of DICOM storage: it sends one Part 10
// file to a storage SCP (any PACS) with C-STORE, over the upper layer of
// package ul and the command sets of package dimse.
//
// # One Store
//
// Client.Store opens one association per file, as PS3.8's requester states
// run it:
//
//  1. TCP connect and A-ASSOCIATE-RQ, both within ConnectTimeout, proposing
//     one presentation context: the file's SOP class (from its file meta)
//     with its own transfer syntax only, because the data set goes out as its
//     bytes are, never transcoded, so the PACS gets the very pixel data.
//  2. The answer: an A-ASSOCIATE-RJ is an error naming who refused and why
//     (*ul.Rejection); an A-ASSOCIATE-AC must accept that context in that
//     syntax, or the association is released and Store returns a
//     *ContextRefusedError saying which part the PACS refused. The acceptor's maximum PDU length is honoured: no P-DATA-TF
//     this side sends is longer.
//  3. C-STORE-RQ (message ID 1, medium priority) and the data set, fragmented.
//  4. C-STORE-RSP: status 0000 is success; the warnings B000 (coercion of
//     data elements), B007 (data set does not match SOP class) and B006
//     (elements discarded) are success too and are logged; any other status
//     (A7xx out of resources, A9xx data set mismatch, Cxxx cannot understand,
//     0122 SOP class not supported and the rest) is a *StatusError carrying it;
//     its FileRefused says whether the status refuses the file for what it is
//     (0117, 0122, A9xx, Cxxx), so that sending it again cannot help.
//  5. A-RELEASE-RQ, and the A-RELEASE-RP awaited within ConnectTimeout; a
//     release that fails after the response does not undo the store and is
//     only logged.
//
// Every PDU read is bounded before anything is allocated (Reader.Next with
// this side's maximum PDU length, the command set by dimse.MaxCommandLen). A
// PDU that breaks PS3.8 (an unexpected type, a PDV of another context or a
// data set fragment in the response, a malformed command set, a response to
// another message) is answered with A-ABORT and the connection closed; an
// A-ABORT from the PACS is an *AbortError. Timeout bounds the whole Store,
// and the context cancels it at any point.
package scu
