// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAttestationRegistry
/// @notice Vocabulary of the attestation registry: schemas (claim types), attestations by
///         certifiers accredited per schema, signed on-chain or off-chain (EIP-712) and relayed
///         by anyone. An attestation's id is its EIP-712 digest, so a signature cannot be replayed
///         and needs no nonce ordering.
interface IAttestationRegistry {
    /// @notice What an attestation of a schema is about.
    enum SubjectKind {
        BATCH,
        FACILITY,
        MEMBER
    }

    /// @notice A claim type.
    struct Schema {
        string name;
        bool revocable;
        SubjectKind subjectKind;
    }

    /// @notice What a certifier claims; the EIP-712 `Attestation` struct adds certifier and deadline.
    /// @dev `subject` is a batch id, a facility id, or an address cast to uint256.
    ///      `expiresAt` is unix seconds, 0 for never. `salt` tells apart otherwise equal claims.
    struct AttestationRequest {
        uint256 schemaId;
        uint256 subject;
        bytes32 dataHash;
        uint64 expiresAt;
        bytes32 salt;
    }

    /// @notice An attestation as stored: one slot (20 + 3 + 1 + 4 + 4 bytes).
    /// @dev `flags`: 1 = revoked, 2 = revocable. Times are unix seconds in uint32 (valid until 2106).
    struct Attestation {
        address certifier;
        uint24 schemaId;
        uint8 flags;
        uint32 issuedAt;
        uint32 expiresAt;
    }

    /// @notice Emitted when an admin registers a schema.
    event SchemaRegistered(uint256 indexed schemaId, string name, bool revocable, SubjectKind subjectKind);
    /// @notice Emitted when an attestation is recorded (directly or relayed with a signature).
    event Attested(
        bytes32 indexed uid,
        uint256 indexed schemaId,
        uint256 indexed subject,
        address certifier,
        bytes32 dataHash,
        uint64 expiresAt,
        bytes32 salt,
        address relayer
    );
    /// @notice Emitted when a certifier revokes an attestation.
    event AttestationRevoked(bytes32 indexed uid, address indexed certifier, uint256 indexed schemaId);

    /// @notice Thrown when a constructor argument that must be a contract holds no code.
    error AttestationInvalidDependency(address dependency);
    /// @notice Thrown when a schema name is empty or longer than 64 bytes.
    error AttestationInvalidSchemaName(string name);
    /// @notice Thrown when a schema name is taken.
    error AttestationSchemaExists(string name, uint256 schemaId);
    /// @notice Thrown when a subject kind is out of range.
    error AttestationInvalidSubjectKind(uint8 subjectKind);
    /// @notice Thrown when a schema id is unknown.
    error AttestationUnknownSchema(uint256 schemaId);
    /// @notice Thrown when the subject does not exist for the schema's subject kind.
    error AttestationUnknownSubject(uint256 schemaId, uint256 subject);
    /// @notice Thrown when an expiry is not in the future or beyond uint32 seconds.
    error AttestationInvalidExpiry(uint64 expiresAt);
    /// @notice Thrown when an attestation with this id exists already.
    error AttestationExists(bytes32 uid);
    /// @notice Thrown when an attestation id is unknown.
    error AttestationNotFound(bytes32 uid);
    /// @notice Thrown when a signature's deadline has passed.
    error AttestationSignatureExpired(uint64 deadline);
    /// @notice Thrown when a signature is not the certifier's (EOA or ERC-1271 contract).
    error AttestationInvalidSignature(address certifier);
    /// @notice Thrown when someone other than the certifier revokes.
    error AttestationNotCertifier(bytes32 uid, address caller);
    /// @notice Thrown when the schema does not allow revocation.
    error AttestationNotRevocable(bytes32 uid);
    /// @notice Thrown when an attestation is already revoked.
    error AttestationAlreadyRevoked(bytes32 uid);

    /// @notice Registers a schema (consortium ADMIN).
    /// @param name Unique name, 1..64 bytes (e.g. "origin-verified").
    /// @param revocable Whether attestations of it can be revoked.
    /// @param subjectKind A SubjectKind value.
    /// @return schemaId The new schema id (1, 2, ...).
    function registerSchema(string calldata name, bool revocable, uint8 subjectKind)
        external
        returns (uint256 schemaId);

    /// @notice Records an attestation by the caller, an accredited certifier.
    /// @param request The claim.
    /// @return uid The attestation id (EIP-712 digest with deadline 0).
    function attest(AttestationRequest calldata request) external returns (bytes32 uid);

    /// @notice Records an attestation signed off-chain by `certifier`; anyone may relay it.
    /// @param request The claim.
    /// @param certifier The signer (an EOA, or an ERC-1271 contract).
    /// @param deadline Last second at which the signature may be relayed.
    /// @param signature The EIP-712 signature over the Attestation struct.
    /// @return uid The attestation id (the signed digest).
    function attestBySig(
        AttestationRequest calldata request,
        address certifier,
        uint64 deadline,
        bytes calldata signature
    ) external returns (bytes32 uid);

    /// @notice Revokes an attestation; only its certifier, only for revocable schemas.
    /// @param uid The attestation id.
    function revoke(bytes32 uid) external;

    /// @notice Whether an attestation exists, is unrevoked and unexpired, and its certifier was
    ///         accredited for the schema when it attested.
    /// @param uid The attestation id.
    /// @return valid True when valid now.
    function isValid(bytes32 uid) external view returns (bool valid);

    /// @notice The EIP-712 digest (and attestation id) for a claim.
    /// @param request The claim.
    /// @param certifier The certifier.
    /// @param deadline The relay deadline (0 for direct attestations).
    /// @return digest The digest to sign.
    function attestationDigest(AttestationRequest calldata request, address certifier, uint64 deadline)
        external
        view
        returns (bytes32 digest);

    /// @notice A stored attestation.
    /// @param uid The attestation id.
    /// @return record The record.
    function attestation(bytes32 uid) external view returns (Attestation memory record);

    /// @notice A schema.
    /// @param schemaId The schema id.
    /// @return schema_ The schema.
    function schema(uint256 schemaId) external view returns (Schema memory schema_);

    /// @notice A schema's id by name, 0 when unknown.
    /// @param name The schema name.
    /// @return schemaId The id.
    function schemaIdOf(string calldata name) external view returns (uint256 schemaId);

    /// @notice Number of schemas registered (ids are 1..count).
    /// @return count The number.
    function schemaCount() external view returns (uint256 count);
}
