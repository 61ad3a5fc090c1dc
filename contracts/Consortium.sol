// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortium} from "./interfaces/IConsortium.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Consortium
/// @notice Members, facilities, devices, accreditations and sanctions of a minerals consortium.
///         Every change to membership, roles, facilities, accreditation, sanctions or the
///         threshold is a proposal executed after `threshold` current admins approved it.
contract Consortium is IConsortium {
    /// @dev One slot per member: roles, active, sanctioned, jurisdiction, joinedAt.
    mapping(address account => Member) private _members;
    /// @dev Facility ids start at 1 so that 0 means "none".
    mapping(uint32 facilityId => Facility) private _facilities;
    mapping(address device => Device) private _devices;
    /// @dev Every window, oldest first, so attestations made under an ended window stay checkable.
    mapping(address certifier => mapping(uint256 schemaId => Accreditation[])) private _accreditations;
    /// @dev Facilities each member operates, to mirror its sanction flag onto them.
    mapping(address operator => uint32[]) private _operatedFacilities;
    mapping(uint256 proposalId => Proposal) private _proposals;

    uint256 private _threshold;
    uint256 private _activeAdmins;
    uint256 private _proposalCount;
    uint32 private _facilityCount;
    /// @dev Root of each member's salted profile record (see `setProfileRoot`).
    mapping(address account => bytes32) private _profileRoots;
    /// @dev Each anchored window of device readings, by its Merkle root.
    mapping(bytes32 root => TelemetryAnchor) private _telemetryAnchors;
    /// @dev Consensus validators registered by proposal, and their keys in registration order.
    mapping(bytes32 pubKey => Validator) private _validators;
    bytes32[] private _validatorKeys;

    /// @dev Cap on one validator's power: far below CometBFT's total of MaxInt64 / 8.
    uint64 private constant MAX_VALIDATOR_POWER = 1_000_000;

    /// @notice Registers the founding members and the approval threshold.
    /// @param founders Members to register; at least `threshold_` of them must be admins.
    /// @param threshold_ Approvals needed per proposal (1 for a single-admin development network).
    constructor(MemberInit[] memory founders, uint256 threshold_) {
        for (uint256 i = 0; i < founders.length; ++i) {
            MemberInit memory f = founders[i];
            _checkNewMember(f.account, f.roles, f.jurisdiction);
            _addMember(f.account, f.roles, f.jurisdiction);
        }
        _setThreshold(threshold_);
    }

    modifier onlyAdmin() {
        _requireMember(msg.sender, Roles.ADMIN);
        _;
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IConsortium
    function proposeAddMember(address account, uint8 roles, bytes2 jurisdiction)
        external
        onlyAdmin
        returns (uint256)
    {
        _checkNewMember(account, roles, jurisdiction);
        return _propose(ProposalKind.ADD_MEMBER, abi.encode(account, roles, jurisdiction));
    }

    /// @inheritdoc IConsortium
    function proposeSetRoles(address account, uint8 roles) external onlyAdmin returns (uint256) {
        _checkSetRoles(account, roles);
        return _propose(ProposalKind.SET_ROLES, abi.encode(account, roles));
    }

    /// @inheritdoc IConsortium
    function proposeSetActive(address account, bool active) external onlyAdmin returns (uint256) {
        _checkSetActive(account, active);
        return _propose(ProposalKind.SET_ACTIVE, abi.encode(account, active));
    }

    /// @inheritdoc IConsortium
    function proposeMemberSanction(address account, bool sanctioned) external onlyAdmin returns (uint256) {
        _checkMemberSanction(account, sanctioned);
        return _propose(ProposalKind.SET_MEMBER_SANCTIONED, abi.encode(account, sanctioned));
    }

    /// @inheritdoc IConsortium
    function proposeAddFacility(address operator, bytes2 country, uint8 kind, bytes32 recordRoot)
        external
        onlyAdmin
        returns (uint256)
    {
        _checkNewFacility(operator, country, kind);
        return _propose(ProposalKind.ADD_FACILITY, abi.encode(operator, country, kind, recordRoot));
    }

    /// @inheritdoc IConsortium
    function proposeFacilitySanction(uint32 facilityId, bool sanctioned) external onlyAdmin returns (uint256) {
        _checkFacilitySanction(facilityId, sanctioned);
        return _propose(ProposalKind.SET_FACILITY_SANCTIONED, abi.encode(facilityId, sanctioned));
    }

    /// @inheritdoc IConsortium
    function proposeAccreditation(address certifier, uint256 schemaId, uint40 validUntil)
        external
        onlyAdmin
        returns (uint256)
    {
        _checkAccreditation(certifier, validUntil);
        return _propose(ProposalKind.ACCREDIT, abi.encode(certifier, schemaId, validUntil));
    }

    /// @inheritdoc IConsortium
    function proposeRevokeAccreditation(address certifier, uint256 schemaId) external onlyAdmin returns (uint256) {
        _checkRevokeAccreditation(certifier, schemaId);
        return _propose(ProposalKind.REVOKE_ACCREDITATION, abi.encode(certifier, schemaId));
    }

    /// @inheritdoc IConsortium
    function proposeThreshold(uint256 threshold_) external onlyAdmin returns (uint256) {
        _checkThreshold(threshold_);
        return _propose(ProposalKind.SET_THRESHOLD, abi.encode(threshold_));
    }

    /// @inheritdoc IConsortium
    function proposeSetValidator(bytes32 pubKey, address account, uint64 power)
        external
        onlyAdmin
        returns (uint256)
    {
        _checkValidator(pubKey, account, power);
        return _propose(ProposalKind.SET_VALIDATOR, abi.encode(pubKey, account, power));
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external onlyAdmin {
        Proposal storage p = _openProposal(proposalId);
        address[] storage approvers = p.approvers;
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (approvers[i] == msg.sender) revert ConsortiumAlreadyApproved(proposalId, msg.sender);
        }
        approvers.push(msg.sender);
        emit ProposalApproved(proposalId, msg.sender);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId) external onlyAdmin {
        Proposal storage p = _openProposal(proposalId);
        // Approvals count only while their admins still are active, unsanctioned admins.
        uint256 approvals = 0;
        address[] storage approvers = p.approvers;
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (_isCountedAdmin(_members[approvers[i]])) ++approvals;
        }
        if (approvals < _threshold) revert ConsortiumNotEnoughApprovals(proposalId, approvals, _threshold);
        p.executed = true;
        _apply(p.kind, p.data);
        emit ProposalExecuted(proposalId, msg.sender);
    }

    // ---------------------------------------------------------------- records

    /// @inheritdoc IConsortium
    function setProfileRoot(bytes32 profileRoot_) external {
        _requireMember(msg.sender, 0);
        _profileRoots[msg.sender] = profileRoot_;
        emit MemberProfileChanged(msg.sender, profileRoot_);
    }

    /// @inheritdoc IConsortium
    function setFacilityRecord(uint32 facilityId, bytes32 recordRoot) external {
        Facility storage f = _requireOperator(msg.sender, facilityId, 0);
        f.recordRoot = recordRoot;
        emit FacilityRecordChanged(facilityId, msg.sender, recordRoot);
    }

    // ---------------------------------------------------------------- devices

    /// @inheritdoc IConsortium
    function registerDevice(address device_, uint32 facilityId) external {
        if (device_ == address(0)) revert ConsortiumZeroAddress();
        _requireOperator(msg.sender, facilityId, 0);
        if (_devices[device_].facilityId != 0) revert ConsortiumDeviceExists(device_);
        _devices[device_] = Device({facilityId: facilityId, active: true});
        emit DeviceRegistered(device_, facilityId);
    }

    /// @inheritdoc IConsortium
    function revokeDevice(address device_) external {
        Device storage d = _devices[device_];
        if (!d.active) revert ConsortiumUnknownDevice(device_);
        uint32 facilityId = d.facilityId;
        _requireOperator(msg.sender, facilityId, 0);
        d.active = false;
        emit DeviceRevoked(device_, facilityId);
    }

    /// @inheritdoc IConsortium
    function anchorTelemetry(uint32 facilityId, bytes32 root, uint32 count, uint40 fromTime, uint40 toTime)
        external
    {
        if (root == bytes32(0) || count == 0 || toTime < fromTime) revert ConsortiumBadTelemetryWindow();
        Device storage d = _devices[msg.sender];
        if (!(d.active && d.facilityId == facilityId)) _requireOperator(msg.sender, facilityId, 0);
        else if (_isFacilityFlagged(facilityId)) revert ConsortiumFacilitySanctioned(facilityId);
        TelemetryAnchor storage a = _telemetryAnchors[root];
        if (a.anchoredAt != 0) revert ConsortiumTelemetryAnchored(root);
        _telemetryAnchors[root] = TelemetryAnchor({
            facilityId: facilityId,
            count: count,
            fromTime: fromTime,
            toTime: toTime,
            anchoredAt: uint40(block.timestamp)
        });
        emit TelemetryAnchored(facilityId, root, msg.sender, count, fromTime, toTime);
    }

    // ---------------------------------------------------------------- checks used by other contracts

    /// @inheritdoc IConsortium
    function transactionAllowed(address sender, address, uint256, uint256, uint256, bytes calldata)
        external
        view
        returns (bool)
    {
        Member memory m = _members[sender];
        return m.active && !m.sanctioned;
    }

    /// @inheritdoc IConsortium
    function requireMember(address account, uint8 role) external view {
        _requireMember(account, role);
    }

    /// @inheritdoc IConsortium
    function requireTransfer(address from, address to, uint32 facilityId) external view {
        _requireHolder(from);
        _requireHolder(to);
        if (_isFacilityFlagged(facilityId)) revert ConsortiumFacilitySanctioned(facilityId);
    }

    /// @inheritdoc IConsortium
    function requireOperator(address account, uint32 facilityId, uint8 role)
        external
        view
        returns (bytes2, FacilityKind)
    {
        Facility storage f = _requireOperator(account, facilityId, role);
        return (f.country, f.kind);
    }

    /// @inheritdoc IConsortium
    function requireAccredited(address certifier, uint256 schemaId) external view {
        _requireMember(certifier, Roles.CERTIFIER);
        if (!_running(_accreditations[certifier][schemaId])) revert ConsortiumNotAccredited(certifier, schemaId);
    }

    /// @inheritdoc IConsortium
    function isFacilityFlagged(uint32 facilityId) external view returns (bool) {
        return _isFacilityFlagged(facilityId);
    }

    /// @inheritdoc IConsortium
    function isAccredited(address certifier, uint256 schemaId, uint256 at) external view returns (bool) {
        Accreditation[] storage windows = _accreditations[certifier][schemaId];
        for (uint256 i = windows.length; i > 0; --i) {
            Accreditation memory a = windows[i - 1];
            if (a.validFrom <= at && at < a.validUntil) return true;
            if (a.validUntil <= at) return false; // windows are ordered: none older covers `at`
        }
        return false;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IConsortium
    function member(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IConsortium
    function facility(uint32 facilityId) external view returns (Facility memory) {
        if (_facilities[facilityId].operator == address(0)) revert ConsortiumUnknownFacility(facilityId);
        return _facilities[facilityId];
    }

    /// @inheritdoc IConsortium
    function profileRoot(address account) external view returns (bytes32) {
        return _profileRoots[account];
    }

    /// @inheritdoc IConsortium
    function telemetryAnchor(bytes32 root) external view returns (TelemetryAnchor memory) {
        return _telemetryAnchors[root];
    }

    /// @inheritdoc IConsortium
    function device(address device_) external view returns (Device memory) {
        return _devices[device_];
    }

    /// @inheritdoc IConsortium
    function accreditation(address certifier, uint256 schemaId) external view returns (Accreditation memory a) {
        Accreditation[] storage windows = _accreditations[certifier][schemaId];
        if (windows.length != 0) a = windows[windows.length - 1];
    }

    /// @inheritdoc IConsortium
    function accreditationHistory(address certifier, uint256 schemaId) external view returns (Accreditation[] memory) {
        return _accreditations[certifier][schemaId];
    }

    /// @inheritdoc IConsortium
    function validator(bytes32 pubKey) external view returns (Validator memory) {
        return _validators[pubKey];
    }

    /// @inheritdoc IConsortium
    function validatorKeys() external view returns (bytes32[] memory) {
        return _validatorKeys;
    }

    /// @inheritdoc IConsortium
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        if (proposalId == 0 || proposalId > _proposalCount) revert ConsortiumUnknownProposal(proposalId);
        return _proposals[proposalId];
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function facilityCount() external view returns (uint32) {
        return _facilityCount;
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IConsortium
    function activeAdminCount() external view returns (uint256) {
        return _activeAdmins;
    }

    // ---------------------------------------------------------------- internals

    function _propose(ProposalKind kind, bytes memory data) private returns (uint256 proposalId) {
        proposalId = ++_proposalCount;
        Proposal storage p = _proposals[proposalId];
        p.kind = kind;
        p.proposer = msg.sender;
        p.createdAt = uint40(block.timestamp);
        p.data = data;
        p.approvers.push(msg.sender);
        emit ProposalCreated(proposalId, kind, msg.sender, data);
        emit ProposalApproved(proposalId, msg.sender);
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        if (proposalId == 0 || proposalId > _proposalCount) revert ConsortiumUnknownProposal(proposalId);
        p = _proposals[proposalId];
        if (p.executed) revert ConsortiumProposalAlreadyExecuted(proposalId);
    }

    /// @dev Re-checks each change against the state at execution time, since other proposals
    ///      may have run between proposal and execution.
    function _apply(ProposalKind kind, bytes memory data) private {
        if (kind == ProposalKind.ADD_MEMBER) {
            (address account, uint8 roles, bytes2 jurisdiction) = abi.decode(data, (address, uint8, bytes2));
            _checkNewMember(account, roles, jurisdiction);
            _addMember(account, roles, jurisdiction);
        } else if (kind == ProposalKind.SET_ROLES) {
            (address account, uint8 roles) = abi.decode(data, (address, uint8));
            _checkSetRoles(account, roles);
            Member storage m = _members[account];
            uint8 previous = m.roles;
            _updateMember(m, roles, m.active, m.sanctioned);
            emit MemberRolesChanged(account, previous, roles);
        } else if (kind == ProposalKind.SET_ACTIVE) {
            (address account, bool active) = abi.decode(data, (address, bool));
            _checkSetActive(account, active);
            Member storage m = _members[account];
            _updateMember(m, m.roles, active, m.sanctioned);
            emit MemberActiveChanged(account, active);
        } else if (kind == ProposalKind.SET_MEMBER_SANCTIONED) {
            (address account, bool sanctioned) = abi.decode(data, (address, bool));
            _checkMemberSanction(account, sanctioned);
            Member storage m = _members[account];
            _updateMember(m, m.roles, m.active, sanctioned);
            uint32[] storage operated = _operatedFacilities[account];
            for (uint256 i = 0; i < operated.length; ++i) {
                _facilities[operated[i]].operatorSanctioned = sanctioned;
            }
            emit MemberSanctionChanged(account, sanctioned);
        } else if (kind == ProposalKind.ADD_FACILITY) {
            (address operator, bytes2 country, uint8 kind_, bytes32 recordRoot) =
                abi.decode(data, (address, bytes2, uint8, bytes32));
            _checkNewFacility(operator, country, kind_);
            uint32 facilityId = ++_facilityCount;
            _facilities[facilityId] = Facility({
                operator: operator,
                country: country,
                kind: FacilityKind(kind_),
                sanctioned: false,
                operatorSanctioned: _members[operator].sanctioned,
                recordRoot: recordRoot
            });
            _operatedFacilities[operator].push(facilityId);
            emit FacilityAdded(facilityId, operator, country, FacilityKind(kind_), recordRoot);
        } else if (kind == ProposalKind.SET_FACILITY_SANCTIONED) {
            (uint32 facilityId, bool sanctioned) = abi.decode(data, (uint32, bool));
            _checkFacilitySanction(facilityId, sanctioned);
            _facilities[facilityId].sanctioned = sanctioned;
            emit FacilitySanctionChanged(facilityId, sanctioned);
        } else if (kind == ProposalKind.ACCREDIT) {
            (address certifier, uint256 schemaId, uint40 validUntil) = abi.decode(data, (address, uint256, uint40));
            _checkAccreditation(certifier, validUntil);
            Accreditation[] storage windows = _accreditations[certifier][schemaId];
            // A running window is extended (or shortened); otherwise a new window starts now.
            uint40 validFrom;
            if (_running(windows)) {
                Accreditation storage last = windows[windows.length - 1];
                validFrom = last.validFrom;
                last.validUntil = validUntil;
            } else {
                validFrom = uint40(block.timestamp);
                windows.push(Accreditation({validFrom: validFrom, validUntil: validUntil}));
            }
            emit CertifierAccredited(certifier, schemaId, validFrom, validUntil);
        } else if (kind == ProposalKind.REVOKE_ACCREDITATION) {
            (address certifier, uint256 schemaId) = abi.decode(data, (address, uint256));
            _checkRevokeAccreditation(certifier, schemaId);
            Accreditation[] storage windows = _accreditations[certifier][schemaId];
            windows[windows.length - 1].validUntil = uint40(block.timestamp);
            emit AccreditationRevoked(certifier, schemaId, uint40(block.timestamp));
        } else if (kind == ProposalKind.SET_VALIDATOR) {
            (bytes32 pubKey, address account, uint64 power) = abi.decode(data, (bytes32, address, uint64));
            _checkValidator(pubKey, account, power);
            if (_validators[pubKey].account == address(0)) _validatorKeys.push(pubKey);
            _validators[pubKey] = Validator({account: account, power: power});
            emit ValidatorSet(pubKey, account, power);
        } else {
            uint256 threshold_ = abi.decode(data, (uint256));
            _checkThreshold(threshold_);
            _setThreshold(threshold_);
        }
    }

    function _addMember(address account, uint8 roles, bytes2 jurisdiction) private {
        Member memory m = Member({
            roles: roles,
            active: true,
            sanctioned: false,
            jurisdiction: jurisdiction,
            joinedAt: uint40(block.timestamp)
        });
        _members[account] = m;
        if (_isCountedAdmin(m)) ++_activeAdmins;
        emit MemberAdded(account, roles, jurisdiction);
    }

    /// @dev Keeps the active-admin count in step and refuses changes that strand the threshold.
    function _updateMember(Member storage m, uint8 roles, bool active, bool sanctioned) private {
        bool wasAdmin = _isCountedAdmin(m);
        m.roles = roles;
        m.active = active;
        m.sanctioned = sanctioned;
        bool isAdmin = _isCountedAdmin(m);
        if (wasAdmin && !isAdmin) {
            uint256 remaining = _activeAdmins - 1;
            if (remaining < _threshold) revert ConsortiumThresholdUnreachable(_threshold, remaining);
            _activeAdmins = remaining;
        } else if (!wasAdmin && isAdmin) {
            ++_activeAdmins;
        }
    }

    function _setThreshold(uint256 threshold_) private {
        if (threshold_ == 0 || threshold_ > _activeAdmins) revert ConsortiumInvalidThreshold(threshold_, _activeAdmins);
        emit ThresholdChanged(_threshold, threshold_);
        _threshold = threshold_;
    }

    function _checkNewMember(address account, uint8 roles, bytes2 jurisdiction) private view {
        if (account == address(0)) revert ConsortiumZeroAddress();
        if (_members[account].joinedAt != 0) revert ConsortiumAlreadyMember(account);
        if (roles == 0) revert ConsortiumInvalidRoles(roles);
        _checkCountry(jurisdiction);
    }

    function _checkSetRoles(address account, uint8 roles) private view {
        Member storage m = _knownMember(account);
        if (roles == 0) revert ConsortiumInvalidRoles(roles);
        if (m.roles == roles) revert ConsortiumNoChange();
    }

    function _checkSetActive(address account, bool active) private view {
        if (_knownMember(account).active == active) revert ConsortiumNoChange();
    }

    function _checkMemberSanction(address account, bool sanctioned) private view {
        if (_knownMember(account).sanctioned == sanctioned) revert ConsortiumNoChange();
    }

    function _checkNewFacility(address operator, bytes2 country, uint8 kind) private view {
        _knownMember(operator);
        _checkCountry(country);
        if (kind > uint8(type(FacilityKind).max)) revert ConsortiumInvalidFacilityKind(kind);
    }

    function _checkFacilitySanction(uint32 facilityId, bool sanctioned) private view {
        if (_facilities[facilityId].operator == address(0)) revert ConsortiumUnknownFacility(facilityId);
        if (_facilities[facilityId].sanctioned == sanctioned) revert ConsortiumNoChange();
    }

    function _checkAccreditation(address certifier, uint40 validUntil) private view {
        Member storage m = _knownMember(certifier);
        if (m.roles & Roles.CERTIFIER == 0) revert ConsortiumMissingRole(certifier, Roles.CERTIFIER);
        if (validUntil <= block.timestamp) revert ConsortiumInvalidAccreditationWindow(validUntil);
    }

    function _checkRevokeAccreditation(address certifier, uint256 schemaId) private view {
        if (!_running(_accreditations[certifier][schemaId])) revert ConsortiumNotAccredited(certifier, schemaId);
    }

    /// @dev Whether the latest window covers now (windows start no later than they are written).
    function _running(Accreditation[] storage windows) private view returns (bool) {
        uint256 n = windows.length;
        return n != 0 && block.timestamp < windows[n - 1].validUntil;
    }

    function _checkValidator(bytes32 pubKey, address account, uint64 power) private view {
        if (pubKey == bytes32(0) || power > MAX_VALIDATOR_POWER) revert ConsortiumInvalidValidator(pubKey, power);
        Member storage m = _knownMember(account);
        if (power > 0) {
            if (!m.active) revert ConsortiumMemberInactive(account);
            if (m.sanctioned) revert ConsortiumMemberSanctioned(account);
        }
        Validator storage v = _validators[pubKey];
        if (v.account == account && v.power == power) revert ConsortiumNoChange();
    }

    function _checkThreshold(uint256 threshold_) private view {
        if (threshold_ == 0 || threshold_ > _activeAdmins) revert ConsortiumInvalidThreshold(threshold_, _activeAdmins);
        if (threshold_ == _threshold) revert ConsortiumNoChange();
    }

    function _checkCountry(bytes2 country) private pure {
        bytes1 a = country[0];
        bytes1 b = country[1];
        if (a < 0x41 || a > 0x5A || b < 0x41 || b > 0x5A) revert ConsortiumInvalidCountry(country);
    }

    function _knownMember(address account) private view returns (Member storage m) {
        m = _members[account];
        if (m.joinedAt == 0) revert ConsortiumNotMember(account);
    }

    function _requireMember(address account, uint8 role) private view {
        Member memory m = _members[account];
        if (m.joinedAt == 0) revert ConsortiumNotMember(account);
        if (!m.active) revert ConsortiumMemberInactive(account);
        if (m.sanctioned) revert ConsortiumMemberSanctioned(account);
        if (m.roles & role != role) revert ConsortiumMissingRole(account, role);
    }

    /// @dev The hot path of every batch move: one storage read, checked in the order of `_requireMember`.
    function _requireHolder(address account) private view {
        Member storage m = _members[account];
        (uint40 joinedAt, bool active, bool sanctioned) = (m.joinedAt, m.active, m.sanctioned);
        if (joinedAt == 0) revert ConsortiumNotMember(account);
        if (!active) revert ConsortiumMemberInactive(account);
        if (sanctioned) revert ConsortiumMemberSanctioned(account);
    }

    function _requireOperator(address account, uint32 facilityId, uint8 role)
        private
        view
        returns (Facility storage f)
    {
        _requireMember(account, role);
        f = _facilities[facilityId];
        if (f.operator == address(0)) revert ConsortiumUnknownFacility(facilityId);
        if (f.operator != account) revert ConsortiumNotOperator(facilityId, account);
        if (f.sanctioned || f.operatorSanctioned) revert ConsortiumFacilitySanctioned(facilityId);
    }

    function _isFacilityFlagged(uint32 facilityId) private view returns (bool) {
        Facility storage f = _facilities[facilityId];
        return f.sanctioned || f.operatorSanctioned;
    }

    function _isCountedAdmin(Member memory m) private pure returns (bool) {
        return m.active && !m.sanctioned && m.roles & Roles.ADMIN != 0;
    }
}
