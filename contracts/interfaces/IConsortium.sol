// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IConsortium
/// @notice Vocabulary of the consortium registry: members with roles, facilities, IoT devices,
///         certifier accreditations and sanctions, changed by M-of-N admin approval. It also
///         answers the node's account-permissioning question (`transactionAllowed`).
interface IConsortium {
    /// @notice Role bits of a member (a member may hold several).
    /// MINER = 1, PROCESSOR = 2, TRADER = 4, CARRIER = 8, CERTIFIER = 16, REGULATOR = 32,
    /// BUYER = 64, ADMIN = 128.

    /// @notice Kind of a registered facility.
    enum FacilityKind {
        MINE,
        CONCENTRATOR,
        REFINERY,
        CONVERTER,
        RECYCLER,
        WAREHOUSE,
        FABRICATOR
    }

    /// @notice What a proposal changes once executed.
    enum ProposalKind {
        ADD_MEMBER,
        SET_ROLES,
        SET_ACTIVE,
        SET_MEMBER_SANCTIONED,
        ADD_FACILITY,
        SET_FACILITY_SANCTIONED,
        ACCREDIT,
        REVOKE_ACCREDITATION,
        SET_THRESHOLD,
        SET_VALIDATOR
    }

    /// @notice A consortium member; one storage slot.
    struct Member {
        uint8 roles;
        bool active;
        bool sanctioned;
        bytes2 jurisdiction;
        uint40 joinedAt;
    }

    /// @notice A mine site or plant; the first slot packs operator, country, kind and flags.
    /// @dev `operatorSanctioned` mirrors the operator's sanction flag, so the question "is this
    ///      facility flagged?" costs one storage read on every batch transfer.
    struct Facility {
        address operator;
        bytes2 country;
        FacilityKind kind;
        bool sanctioned;
        bool operatorSanctioned;
        bytes32 recordRoot;
    }

    /// @notice An IoT device key bound to a facility.
    struct Device {
        uint32 facilityId;
        bool active;
    }

    /// @notice A window of device readings anchored by its Merkle root (one slot).
    struct TelemetryAnchor {
        uint32 facilityId;
        uint32 count;
        uint40 fromTime;
        uint40 toTime;
        uint40 anchoredAt;
    }

    /// @notice A consensus validator: an ed25519 key bound to a member account, with its voting
    ///         power (0: removed). The node gives it no power while the member is inactive or
    ///         sanctioned. One slot.
    struct Validator {
        address account;
        uint64 power;
    }

    /// @notice A certifier's accreditation for one attestation schema, valid in [validFrom, validUntil).
    struct Accreditation {
        uint40 validFrom;
        uint40 validUntil;
    }

    /// @notice A member to register at deployment.
    struct MemberInit {
        address account;
        uint8 roles;
        bytes2 jurisdiction;
    }

    /// @notice A pending or executed change.
    struct Proposal {
        ProposalKind kind;
        bool executed;
        address proposer;
        uint40 createdAt;
        bytes data;
        address[] approvers;
    }

    /// @notice Emitted when a member is registered.
    event MemberAdded(address indexed account, uint8 roles, bytes2 jurisdiction);
    /// @notice Emitted when a member's roles change.
    event MemberRolesChanged(address indexed account, uint8 previousRoles, uint8 roles);
    /// @notice Emitted when a member is activated or deactivated.
    event MemberActiveChanged(address indexed account, bool active);
    /// @notice Emitted when a member's sanction flag changes.
    event MemberSanctionChanged(address indexed account, bool sanctioned);
    /// @notice Emitted when a facility is registered.
    event FacilityAdded(
        uint32 indexed facilityId, address indexed operator, bytes2 country, FacilityKind kind, bytes32 recordRoot
    );
    /// @notice Emitted when a facility's operator sets a new record root.
    event FacilityRecordChanged(uint32 indexed facilityId, address indexed operator, bytes32 recordRoot);
    /// @notice Emitted when a member sets a new profile root.
    event MemberProfileChanged(address indexed account, bytes32 profileRoot);
    /// @notice Emitted when a facility's sanction flag changes.
    event FacilitySanctionChanged(uint32 indexed facilityId, bool sanctioned);
    /// @notice Emitted when a window of a facility's device readings is anchored.
    event TelemetryAnchored(
        uint32 indexed facilityId, bytes32 indexed root, address indexed by, uint32 count, uint40 fromTime, uint40 toTime
    );
    /// @notice Emitted when a device key is bound to a facility.
    event DeviceRegistered(address indexed device, uint32 indexed facilityId);
    /// @notice Emitted when a device key is deactivated.
    event DeviceRevoked(address indexed device, uint32 indexed facilityId);
    /// @notice Emitted when a certifier is accredited for a schema.
    event CertifierAccredited(address indexed certifier, uint256 indexed schemaId, uint40 validFrom, uint40 validUntil);
    /// @notice Emitted when a certifier's accreditation for a schema ends early.
    event AccreditationRevoked(address indexed certifier, uint256 indexed schemaId, uint40 endedAt);
    /// @notice Emitted when a validator is added, re-weighted or removed (power 0).
    event ValidatorSet(bytes32 indexed pubKey, address indexed account, uint64 power);
    /// @notice Emitted when the approval threshold changes.
    event ThresholdChanged(uint256 previousThreshold, uint256 threshold);
    /// @notice Emitted when an admin proposes a change (the proposer's approval is counted).
    event ProposalCreated(uint256 indexed proposalId, ProposalKind indexed kind, address indexed proposer, bytes data);
    /// @notice Emitted when an admin approves a proposal.
    event ProposalApproved(uint256 indexed proposalId, address indexed approver);
    /// @notice Emitted when a proposal is executed.
    event ProposalExecuted(uint256 indexed proposalId, address indexed executor);

    /// @notice Thrown when an account is not a registered member.
    error ConsortiumNotMember(address account);
    /// @notice Thrown when an account is already a registered member.
    error ConsortiumAlreadyMember(address account);
    /// @notice Thrown when a member is deactivated.
    error ConsortiumMemberInactive(address account);
    /// @notice Thrown when a member is under sanction.
    error ConsortiumMemberSanctioned(address account);
    /// @notice Thrown when a member lacks a role the call needs.
    error ConsortiumMissingRole(address account, uint8 role);
    /// @notice Thrown when a roles value uses undefined bits or is empty.
    error ConsortiumInvalidRoles(uint8 roles);
    /// @notice Thrown when a country code is not two upper-case ASCII letters (ISO 3166-1 alpha-2).
    error ConsortiumInvalidCountry(bytes2 country);
    /// @notice Thrown when an address argument is zero.
    error ConsortiumZeroAddress();
    /// @notice Thrown when a facility kind is out of range.
    error ConsortiumInvalidFacilityKind(uint8 kind);
    /// @notice Thrown when a facility id is unknown.
    error ConsortiumUnknownFacility(uint32 facilityId);
    /// @notice Thrown when a facility, or the member operating it, is under sanction.
    error ConsortiumFacilitySanctioned(uint32 facilityId);
    /// @notice Thrown when the caller does not operate the facility.
    error ConsortiumNotOperator(uint32 facilityId, address caller);
    /// @notice Thrown when a telemetry root is anchored a second time.
    error ConsortiumTelemetryAnchored(bytes32 root);
    /// @notice Thrown when a telemetry window is empty, backwards, or has a zero root.
    error ConsortiumBadTelemetryWindow();
    /// @notice Thrown when a device key is already registered.
    error ConsortiumDeviceExists(address device);
    /// @notice Thrown when a device key is unknown or inactive.
    error ConsortiumUnknownDevice(address device);
    /// @notice Thrown when an accreditation's end is not in the future.
    error ConsortiumInvalidAccreditationWindow(uint40 validUntil);
    /// @notice Thrown when a certifier holds no current accreditation for a schema.
    error ConsortiumNotAccredited(address certifier, uint256 schemaId);
    /// @notice Thrown when a threshold is zero or exceeds the number of active admins.
    error ConsortiumInvalidThreshold(uint256 threshold, uint256 activeAdmins);
    /// @notice Thrown when a change would leave fewer active admins than the threshold.
    error ConsortiumThresholdUnreachable(uint256 threshold, uint256 activeAdmins);
    /// @notice Thrown when a proposal id is unknown.
    error ConsortiumUnknownProposal(uint256 proposalId);
    /// @notice Thrown when a proposal was already executed.
    error ConsortiumProposalAlreadyExecuted(uint256 proposalId);
    /// @notice Thrown when an admin approves a proposal twice.
    error ConsortiumAlreadyApproved(uint256 proposalId, address approver);
    /// @notice Thrown when a proposal lacks approvals from current admins.
    error ConsortiumNotEnoughApprovals(uint256 proposalId, uint256 approvals, uint256 threshold);
    /// @notice Thrown when a proposed change would not change anything.
    error ConsortiumNoChange();
    /// @notice Thrown when a validator key is zero or its power is above the cap.
    error ConsortiumInvalidValidator(bytes32 pubKey, uint64 power);

    /// @notice Proposes registering a member.
    /// @param account The member's address.
    /// @param roles Role bits.
    /// @param jurisdiction ISO 3166-1 alpha-2 country code.
    /// @return proposalId The new proposal's id.
    function proposeAddMember(address account, uint8 roles, bytes2 jurisdiction) external returns (uint256 proposalId);

    /// @notice Proposes replacing a member's roles.
    /// @param account The member.
    /// @param roles New role bits.
    /// @return proposalId The new proposal's id.
    function proposeSetRoles(address account, uint8 roles) external returns (uint256 proposalId);

    /// @notice Proposes activating or deactivating a member.
    /// @param account The member.
    /// @param active The new active flag.
    /// @return proposalId The new proposal's id.
    function proposeSetActive(address account, bool active) external returns (uint256 proposalId);

    /// @notice Proposes raising or clearing a member's sanction flag.
    /// @param account The member.
    /// @param sanctioned The new sanction flag.
    /// @return proposalId The new proposal's id.
    function proposeMemberSanction(address account, bool sanctioned) external returns (uint256 proposalId);

    /// @notice Proposes registering a facility.
    /// @param operator The member operating it.
    /// @param country ISO 3166-1 alpha-2 country code of the site.
    /// @param kind A FacilityKind value.
    /// @param recordRoot Merkle root of the facility's salted off-chain record (name, address,
    ///        coordinates, licence); zero when none yet. The operator updates it later.
    /// @return proposalId The new proposal's id.
    function proposeAddFacility(address operator, bytes2 country, uint8 kind, bytes32 recordRoot)
        external
        returns (uint256 proposalId);

    /// @notice Proposes raising or clearing a facility's sanction flag.
    /// @param facilityId The facility.
    /// @param sanctioned The new sanction flag.
    /// @return proposalId The new proposal's id.
    function proposeFacilitySanction(uint32 facilityId, bool sanctioned) external returns (uint256 proposalId);

    /// @notice Proposes accrediting a certifier for a schema until a time.
    /// @param certifier A member with the CERTIFIER role.
    /// @param schemaId The attestation schema.
    /// @param validUntil End of the accreditation (unix seconds, exclusive).
    /// @return proposalId The new proposal's id.
    function proposeAccreditation(address certifier, uint256 schemaId, uint40 validUntil)
        external
        returns (uint256 proposalId);

    /// @notice Proposes ending a certifier's accreditation for a schema now.
    /// @param certifier The certifier.
    /// @param schemaId The attestation schema.
    /// @return proposalId The new proposal's id.
    function proposeRevokeAccreditation(address certifier, uint256 schemaId) external returns (uint256 proposalId);

    /// @notice Proposes a new approval threshold.
    /// @param threshold Approvals needed, between 1 and the number of active admins.
    /// @return proposalId The new proposal's id.
    function proposeThreshold(uint256 threshold) external returns (uint256 proposalId);

    /// @notice Proposes to add, re-weight (power > 0) or remove (power 0) a consensus validator.
    /// @param pubKey The validator's ed25519 public key.
    /// @param account The member it is bound to (active and unsanctioned unless power is 0).
    /// @param power Its voting power, at most 1,000,000.
    /// @return proposalId The new proposal's id.
    function proposeSetValidator(bytes32 pubKey, address account, uint64 power) external returns (uint256 proposalId);

    /// @notice Adds the caller's approval to a proposal.
    /// @param proposalId The proposal.
    function approve(uint256 proposalId) external;

    /// @notice Executes a proposal approved by at least `threshold` current admins.
    /// @param proposalId The proposal.
    function execute(uint256 proposalId) external;

    /// @notice Sets the caller's profile root: the Merkle root (OpenZeppelin StandardMerkleTree
    ///         hashing) of its salted member profile (legal name, registration, address).
    /// @param profileRoot The new root; zero withdraws the profile.
    function setProfileRoot(bytes32 profileRoot) external;

    /// @notice Anchors the Merkle root of a window of a facility's device readings (OpenZeppelin
    ///         leaves, as `MineralPassport.verifyTelemetry` checks). The caller is the facility's
    ///         operator or an active device key registered to it (a gateway).
    /// @param facilityId The facility whose devices took the readings.
    /// @param root The window's Merkle root; each root is anchored once.
    /// @param count How many readings the window holds (at least 1).
    /// @param fromTime Time of the window's first reading.
    /// @param toTime Time of its last reading (not before `fromTime`).
    function anchorTelemetry(uint32 facilityId, bytes32 root, uint32 count, uint40 fromTime, uint40 toTime)
        external;

    /// @notice Sets the record root of a facility the caller operates (same tree format).
    /// @param facilityId The facility.
    /// @param recordRoot The new root.
    function setFacilityRecord(uint32 facilityId, bytes32 recordRoot) external;

    /// @notice Binds an IoT device key to a facility the caller operates.
    /// @param device The device's signing address.
    /// @param facilityId The facility.
    function registerDevice(address device, uint32 facilityId) external;

    /// @notice Deactivates a device key of a facility the caller operates.
    /// @param device The device's signing address.
    function revokeDevice(address device) external;

    /// @notice Besu's account-permissioning question: may `sender` send this transaction?
    /// @dev True for active, unsanctioned members; the other arguments are part of the interface.
    /// @param sender The transaction's sender.
    /// @param target The transaction's target (unused).
    /// @param value The value sent (unused).
    /// @param gasPrice The gas price (unused).
    /// @param gasLimit The gas limit (unused).
    /// @param payload The calldata (unused).
    /// @return allowed Whether the sender is permitted.
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256 gasPrice,
        uint256 gasLimit,
        bytes calldata payload
    ) external view returns (bool allowed);

    /// @notice Reverts unless `account` is an active, unsanctioned member holding `role` (0: any role).
    /// @param account The account to check.
    /// @param role Role bits that must all be held.
    function requireMember(address account, uint8 role) external view;

    /// @notice Reverts unless both parties may hold batches and the production facility is unsanctioned.
    /// @param from The current holder.
    /// @param to The receiver.
    /// @param facilityId The batch's production facility.
    function requireTransfer(address from, address to, uint32 facilityId) external view;

    /// @notice Reverts unless `account` operates `facilityId`, holds `role`, and neither is sanctioned.
    /// @param account The acting member.
    /// @param facilityId The facility.
    /// @param role Role bits that must all be held.
    /// @return country The facility's country.
    /// @return kind The facility's kind.
    function requireOperator(address account, uint32 facilityId, uint8 role)
        external
        view
        returns (bytes2 country, FacilityKind kind);

    /// @notice Reverts unless `certifier` is an active, unsanctioned CERTIFIER accredited for `schemaId` now.
    /// @param certifier The certifier.
    /// @param schemaId The attestation schema.
    function requireAccredited(address certifier, uint256 schemaId) external view;

    /// @notice Whether a facility or its operator is sanctioned.
    /// @param facilityId The facility.
    /// @return flagged True when sanctioned.
    function isFacilityFlagged(uint32 facilityId) external view returns (bool flagged);

    /// @notice Whether a certifier was accredited for a schema at a time (in any of its windows).
    /// @param certifier The certifier.
    /// @param schemaId The schema.
    /// @param at Unix seconds.
    /// @return accredited True when the time falls in the accreditation window.
    function isAccredited(address certifier, uint256 schemaId, uint256 at) external view returns (bool accredited);

    /// @notice A member's record (zeroed when unknown).
    /// @param account The member.
    /// @return member The record.
    function member(address account) external view returns (Member memory member);

    /// @notice A facility's record.
    /// @param facilityId The facility.
    /// @return facility The record.
    function facility(uint32 facilityId) external view returns (Facility memory facility);

    /// @notice A member's profile root (zero when none was set).
    /// @param account The member.
    /// @return root The root.
    function profileRoot(address account) external view returns (bytes32 root);

    /// @notice Where and when a telemetry root was anchored (zeroed when it was not).
    /// @param root The window's Merkle root.
    /// @return anchor_ The anchor record.
    function telemetryAnchor(bytes32 root) external view returns (TelemetryAnchor memory anchor_);

    /// @notice A device's binding (zeroed when unknown).
    /// @param device The device key.
    /// @return device_ The binding.
    function device(address device) external view returns (Device memory device_);

    /// @notice Every accreditation window a certifier held for a schema, oldest first.
    /// @param certifier The certifier.
    /// @param schemaId The schema.
    /// @return windows The windows.
    function accreditationHistory(address certifier, uint256 schemaId)
        external
        view
        returns (Accreditation[] memory windows);

    /// @notice A certifier's latest accreditation window for a schema (zeroed when none).
    /// @param certifier The certifier.
    /// @param schemaId The schema.
    /// @return accreditation The window.
    function accreditation(address certifier, uint256 schemaId)
        external
        view
        returns (Accreditation memory accreditation);

    /// @notice A validator registered by proposal (zeroed when unknown).
    /// @param pubKey Its ed25519 public key.
    /// @return validator_ The record.
    function validator(bytes32 pubKey) external view returns (Validator memory validator_);

    /// @notice Every validator key ever registered by proposal, in registration order.
    /// @return keys The ed25519 public keys.
    function validatorKeys() external view returns (bytes32[] memory keys);

    /// @notice A proposal.
    /// @param proposalId The proposal.
    /// @return proposal The record.
    function proposal(uint256 proposalId) external view returns (Proposal memory proposal);

    /// @notice Number of proposals created so far (ids are 1..count).
    /// @return count The number.
    function proposalCount() external view returns (uint256 count);

    /// @notice Number of facilities registered so far (ids are 1..count).
    /// @return count The number.
    function facilityCount() external view returns (uint32 count);

    /// @notice Approvals needed to execute a proposal.
    /// @return threshold The number.
    function threshold() external view returns (uint256 threshold);

    /// @notice Active, unsanctioned members holding the ADMIN role.
    /// @return count The number.
    function activeAdminCount() external view returns (uint256 count);
}
