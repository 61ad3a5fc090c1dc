// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IMineralPassport} from "./interfaces/IMineralPassport.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title AttestationRegistry
/// @notice Claims by accredited certifiers about batches, facilities and members. An attestation
///         is one storage slot; its subject, data hash and salt live in the `Attested` event and in
///         its id (the EIP-712 digest), which commits to all of them.
contract AttestationRegistry is IAttestationRegistry, EIP712 {
    /// @notice EIP-712 type of a certifier's claim.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address certifier,uint256 schemaId,uint256 subject,bytes32 dataHash,uint64 expiresAt,uint64 deadline,bytes32 salt)"
    );
    /// @notice Attestation flag: revoked by its certifier.
    uint8 public constant FLAG_REVOKED = 1;
    /// @notice Attestation flag: its schema allows revocation.
    uint8 public constant FLAG_REVOCABLE = 2;
    uint256 private constant _MAX_SCHEMA_NAME = 64;

    IConsortium public immutable consortium;
    IMineralPassport public immutable passport;

    mapping(uint256 schemaId => Schema) private _schemas;
    mapping(bytes32 nameHash => uint256 schemaId) private _schemaIds;
    mapping(bytes32 uid => Attestation) private _attestations;
    /// @dev Schema ids fit the 24 bits an attestation stores for them (16.7 million schemas).
    uint24 private _schemaCount;

    /// @notice Deploys the registry.
    /// @param consortium_ Answers membership and accreditation questions.
    /// @param passport_ The batch registry, for BATCH subjects.
    constructor(IConsortium consortium_, IMineralPassport passport_) EIP712("MineralPassport Attestations", "1") {
        if (address(consortium_).code.length == 0) revert AttestationInvalidDependency(address(consortium_));
        if (address(passport_).code.length == 0) revert AttestationInvalidDependency(address(passport_));
        consortium = consortium_;
        passport = passport_;
    }

    /// @inheritdoc IAttestationRegistry
    function registerSchema(string calldata name, bool revocable, uint8 subjectKind)
        external
        returns (uint256 schemaId)
    {
        consortium.requireMember(msg.sender, Roles.ADMIN);
        if (bytes(name).length == 0 || bytes(name).length > _MAX_SCHEMA_NAME) revert AttestationInvalidSchemaName(name);
        if (subjectKind > uint8(type(SubjectKind).max)) revert AttestationInvalidSubjectKind(subjectKind);
        bytes32 nameHash = keccak256(bytes(name));
        uint256 existing = _schemaIds[nameHash];
        if (existing != 0) revert AttestationSchemaExists(name, existing);
        schemaId = ++_schemaCount;
        _schemas[schemaId] = Schema({name: name, revocable: revocable, subjectKind: SubjectKind(subjectKind)});
        _schemaIds[nameHash] = schemaId;
        emit SchemaRegistered(schemaId, name, revocable, SubjectKind(subjectKind));
    }

    /// @inheritdoc IAttestationRegistry
    function attest(AttestationRequest calldata request) external returns (bytes32 uid) {
        uid = _digest(request, msg.sender, 0);
        _record(uid, request, msg.sender);
    }

    /// @inheritdoc IAttestationRegistry
    function attestBySig(
        AttestationRequest calldata request,
        address certifier,
        uint64 deadline,
        bytes calldata signature
    ) external returns (bytes32 uid) {
        if (block.timestamp > deadline) revert AttestationSignatureExpired(deadline);
        uid = _digest(request, certifier, deadline);
        if (!SignatureChecker.isValidSignatureNow(certifier, uid, signature)) {
            revert AttestationInvalidSignature(certifier);
        }
        _record(uid, request, certifier);
    }

    /// @inheritdoc IAttestationRegistry
    function revoke(bytes32 uid) external {
        Attestation storage a = _attestations[uid];
        address certifier = a.certifier;
        if (certifier == address(0)) revert AttestationNotFound(uid);
        if (certifier != msg.sender) revert AttestationNotCertifier(uid, msg.sender);
        uint8 flags = a.flags;
        if (flags & FLAG_REVOCABLE == 0) revert AttestationNotRevocable(uid);
        if (flags & FLAG_REVOKED != 0) revert AttestationAlreadyRevoked(uid);
        a.flags = flags | FLAG_REVOKED;
        emit AttestationRevoked(uid, certifier, a.schemaId);
    }

    /// @inheritdoc IAttestationRegistry
    function isValid(bytes32 uid) external view returns (bool) {
        Attestation memory a = _attestations[uid];
        if (a.certifier == address(0) || a.flags & FLAG_REVOKED != 0) return false;
        if (a.expiresAt != 0 && block.timestamp >= a.expiresAt) return false;
        return consortium.isAccredited(a.certifier, a.schemaId, a.issuedAt);
    }

    /// @inheritdoc IAttestationRegistry
    function attestationDigest(AttestationRequest calldata request, address certifier, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _digest(request, certifier, deadline);
    }

    /// @inheritdoc IAttestationRegistry
    function attestation(bytes32 uid) external view returns (Attestation memory a) {
        a = _attestations[uid];
        if (a.certifier == address(0)) revert AttestationNotFound(uid);
    }

    /// @inheritdoc IAttestationRegistry
    function schema(uint256 schemaId) external view returns (Schema memory) {
        if (schemaId == 0 || schemaId > _schemaCount) revert AttestationUnknownSchema(schemaId);
        return _schemas[schemaId];
    }

    /// @inheritdoc IAttestationRegistry
    function schemaIdOf(string calldata name) external view returns (uint256) {
        return _schemaIds[keccak256(bytes(name))];
    }

    /// @inheritdoc IAttestationRegistry
    function schemaCount() external view returns (uint256) {
        return _schemaCount;
    }

    // ------------------------------------------------------------------ internals

    function _digest(AttestationRequest calldata r, address certifier, uint64 deadline) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH, certifier, r.schemaId, r.subject, r.dataHash, r.expiresAt, deadline, r.salt
                )
            )
        );
    }

    function _record(bytes32 uid, AttestationRequest calldata r, address certifier) private {
        uint256 schemaId = r.schemaId;
        if (schemaId == 0 || schemaId > _schemaCount) revert AttestationUnknownSchema(schemaId);
        if (_attestations[uid].certifier != address(0)) revert AttestationExists(uid);
        uint64 expiresAt = r.expiresAt;
        if (expiresAt != 0 && (expiresAt <= block.timestamp || expiresAt > type(uint32).max)) {
            revert AttestationInvalidExpiry(expiresAt);
        }
        Schema storage s = _schemas[schemaId];
        _checkSubject(schemaId, s.subjectKind, r.subject);
        consortium.requireAccredited(certifier, schemaId);
        // Casts are safe: schemaId <= _schemaCount (uint24), expiresAt checked above, and
        // block.timestamp fits uint32 until 2106.
        _attestations[uid] = Attestation({
            certifier: certifier,
            schemaId: uint24(schemaId),
            flags: s.revocable ? FLAG_REVOCABLE : 0,
            issuedAt: uint32(block.timestamp),
            expiresAt: uint32(expiresAt)
        });
        emit Attested(uid, schemaId, r.subject, certifier, r.dataHash, expiresAt, r.salt, msg.sender);
    }

    function _checkSubject(uint256 schemaId, SubjectKind kind, uint256 subject) private view {
        bool known;
        if (kind == SubjectKind.BATCH) {
            known = subject != 0 && subject <= passport.batchCount();
        } else if (kind == SubjectKind.FACILITY) {
            known = subject != 0 && subject <= consortium.facilityCount();
        } else {
            known = subject <= type(uint160).max && consortium.member(address(uint160(subject))).joinedAt != 0;
        }
        if (!known) revert AttestationUnknownSubject(schemaId, subject);
    }
}
